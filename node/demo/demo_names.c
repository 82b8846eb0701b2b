/* demo_names.c: name, address and organisation tables, and the small text helpers on them. */
#include "demo_internal.h"

#include <string.h>

#define TABLE(name, arr, common) \
	static const struct demo_table name = {arr, HX_ARRAY_SIZE(arr), common}

/* ---- given and family names, by origin ------------------------------------------------- */

/* US/English-speaking names; the first 30 of each are the most frequent. */
static const char *const anglo_female[] = {
	"Mary", "Patricia", "Jennifer", "Linda", "Elizabeth", "Barbara", "Susan", "Jessica",
	"Sarah", "Karen", "Lisa", "Nancy", "Betty", "Margaret", "Sandra", "Ashley", "Kimberly",
	"Emily", "Donna", "Michelle", "Carol", "Amanda", "Dorothy", "Melissa", "Deborah",
	"Stephanie", "Rebecca", "Sharon", "Laura", "Cynthia", "Kathleen", "Amy", "Angela",
	"Shirley", "Anna", "Brenda", "Pamela", "Emma", "Nicole", "Helen", "Samantha", "Katherine",
	"Christine", "Debra", "Rachel", "Carolyn", "Janet", "Catherine", "Heather", "Diane",
	"Ruth", "Julie", "Olivia", "Joyce", "Virginia", "Victoria", "Kelly", "Lauren", "Christina",
	"Joan", "Evelyn", "Judith", "Megan", "Andrea", "Cheryl", "Hannah", "Jacqueline", "Martha",
	"Gloria", "Teresa", "Ann", "Sara", "Madison", "Frances", "Kathryn", "Janice", "Jean",
	"Abigail", "Alice", "Judy", "Sophia", "Grace", "Denise", "Amber", "Doris", "Marilyn",
	"Danielle", "Beverly", "Isabella", "Theresa", "Diana", "Natalie", "Brittany", "Charlotte",
	"Marie", "Kayla", "Alexis", "Lori", "Alexandra", "Madeline", "Bridget", "Siobhán",
	"Aoife", "Niamh", "Imani", "Aaliyah", "Nia", "Ebony", "Latoya", "Tamika", "Renée",
	"Zoë", "Chloé", "Miriam", "Rivka",
};
static const char *const anglo_male[] = {
	"James", "Robert", "John", "Michael", "David", "William", "Richard", "Joseph", "Thomas",
	"Christopher", "Charles", "Daniel", "Matthew", "Anthony", "Mark", "Donald", "Steven",
	"Paul", "Andrew", "Joshua", "Kenneth", "Kevin", "Brian", "George", "Timothy", "Ronald",
	"Edward", "Jason", "Jeffrey", "Ryan", "Jacob", "Gary", "Nicholas", "Eric", "Jonathan",
	"Stephen", "Larry", "Justin", "Scott", "Brandon", "Benjamin", "Samuel", "Gregory",
	"Alexander", "Frank", "Patrick", "Raymond", "Jack", "Dennis", "Jerry", "Tyler", "Aaron",
	"Henry", "Douglas", "Peter", "Adam", "Nathan", "Zachary", "Walter", "Kyle", "Harold",
	"Carl", "Arthur", "Gerald", "Roger", "Keith", "Jeremy", "Terry", "Lawrence", "Sean",
	"Christian", "Albert", "Austin", "Ethan", "Willie", "Bruce", "Bryan", "Jordan", "Ralph",
	"Roy", "Noah", "Dylan", "Eugene", "Wayne", "Alan", "Louis", "Russell", "Gabriel", "Randy",
	"Philip", "Harry", "Vincent", "Logan", "Frederick", "Francis", "Donovan", "Seán",
	"Ciarán", "Declan", "Niall", "DeShawn", "Malik", "Darnell", "Tyrone", "Jamal", "Andre",
	"Isaac", "Levi",
};
static const char *const anglo_family[] = {
	"Smith", "Johnson", "Williams", "Brown", "Jones", "Miller", "Davis", "Wilson", "Anderson",
	"Taylor", "Thomas", "Moore", "Jackson", "Martin", "Lee", "Thompson", "White", "Harris",
	"Clark", "Lewis", "Robinson", "Walker", "Young", "Allen", "King", "Wright", "Scott",
	"Hill", "Green", "Adams", "Baker", "Nelson", "Carter", "Mitchell", "Roberts", "Turner",
	"Phillips", "Campbell", "Parker", "Evans", "Edwards", "Collins", "Stewart", "Morris",
	"Murphy", "Cook", "Rogers", "Morgan", "Peterson", "Cooper", "Reed", "Bailey", "Bell",
	"Kelly", "Howard", "Ward", "Cox", "Richardson", "Wood", "Watson", "Brooks", "Bennett",
	"Gray", "James", "Hughes", "Price", "Sanders", "Myers", "Long", "Ross", "Foster", "Powell",
	"Jenkins", "Perry", "Russell", "Sullivan", "Fisher", "Henderson", "Coleman", "Simmons",
	"Patterson", "Jordan", "Reynolds", "Hamilton", "Graham", "Wallace", "Woods", "Cole",
	"West", "Owens", "Marshall", "Ellis", "Hayes", "Gibson", "McDonald", "Murray", "Ford",
	"Wells", "Stone", "Hunt", "Black", "Webb", "Olson", "Palmer", "Mills", "Knight", "Hudson",
	"Fleming", "Washington", "Freeman", "Chambers", "O'Brien", "O'Connor", "O'Neill",
	"O'Sullivan", "O'Reilly", "McCarthy", "MacKenzie", "McLaughlin", "Gallagher",
	"Fitzgerald", "Kennedy", "Quinn", "Cohen", "Levy", "Friedman", "Katz", "Goldberg",
	"Shapiro", "Rosenberg", "Smith-Jones", "Taylor-Wood", "Hughes-Martin", "Lloyd-Evans",
};

static const char *const hispanic_female[] = {
	"María", "Guadalupe", "Sofía", "Lucía", "Valentina", "Camila", "Ximena", "Carmen", "Rosa",
	"Ana", "Isabel", "Gabriela", "Alejandra", "Daniela", "Mariana", "Paola", "Adriana",
	"Leticia", "Yolanda", "Margarita", "Beatriz", "Inés", "Pilar", "Verónica", "Araceli",
	"Marisol", "Dolores", "Esperanza",
};
static const char *const hispanic_male[] = {
	"José", "Luis", "Carlos", "Jesús", "Miguel", "Francisco", "Alejandro", "Javier", "Ramón",
	"Andrés", "Sebastián", "Diego", "Mateo", "Santiago", "Fernando", "Roberto", "Ricardo",
	"Eduardo", "Joaquín", "Ignacio", "Héctor", "Raúl", "Juan", "Jorge", "Óscar", "Rubén",
};
static const char *const hispanic_family[] = {
	"García", "Rodríguez", "Martínez", "Hernández", "López", "González", "Pérez", "Sánchez",
	"Ramírez", "Torres", "Flores", "Rivera", "Gómez", "Díaz", "Cruz", "Morales", "Reyes",
	"Gutiérrez", "Ortiz", "Chávez", "Ramos", "Ruiz", "Mendoza", "Álvarez", "Castillo",
	"Jiménez", "Vásquez", "Moreno", "Romero", "Herrera", "Medina", "Aguilar", "Vargas",
	"Castro", "Guzmán", "Fernández", "Muñoz", "Rojas", "Delgado", "Peña", "Ríos", "Navarro",
	"Salazar", "Cabrera", "Domínguez", "Ibáñez", "Núñez", "Soto", "Contreras", "Cortés",
};

static const char *const europe_female[] = {
	"Françoise", "Amélie", "Hélène", "Céline", "Ingrid", "Astrid", "Sigrid", "Birgit",
	"Agnieszka", "Małgorzata", "Katarzyna", "Zuzana", "Ewa", "Olga", "Svetlana", "Natalia",
	"Anastasia", "Irina", "Tatiana", "Giulia", "Francesca", "Chiara", "Elena", "Greta",
	"Lena", "Annika", "Dagmar", "Éva",
};
static const char *const europe_male[] = {
	"François", "André", "Jérôme", "Björn", "Søren", "Lars", "Anders", "Jürgen", "Klaus",
	"Stefan", "Łukasz", "Piotr", "Tomasz", "Krzysztof", "Dmitri", "Aleksandr", "Sergei",
	"Nikolai", "Ivan", "Giovanni", "Luca", "Marco", "Matteo", "Henrik", "Dieter", "János",
};
static const char *const europe_family[] = {
	"Müller", "Schmidt", "Schneider", "Fischer", "Weber", "Meyer", "Wagner", "Becker",
	"Schäfer", "Koch", "Hoffmann", "Schröder", "Krüger", "Zimmermann", "van den Berg",
	"de Vries", "Jansen", "Bakker", "Andersson", "Johansson", "Nilsson", "Larsen", "Hansen",
	"Jørgensen", "Sørensen", "Lindqvist", "Björklund", "Rossi", "Russo", "Ferrari", "Esposito",
	"Bianchi", "Romano", "Colombo", "Ricci", "Marino", "De Luca", "Dubois", "Lefèvre",
	"Moreau", "Laurent", "Girard", "Rousseau", "Bélanger", "Côté", "Gagnon", "Tremblay",
	"Pereira", "Silva", "Santos", "Oliveira", "Costa", "Gonçalves", "Ferreira", "Nowak",
	"Kowalski", "Wiśniewski", "Wójcik", "Kowalczyk", "Lewandowski", "Novák", "Dvořák",
	"Horváth", "Kovács", "Szabó", "Ivanov", "Petrov", "Smirnov", "Popescu", "Ionescu",
	"Jovanović", "Petrović", "Kuznetsov", "Volkov", "Papadopoulos", "Georgiou", "Yılmaz",
	"Öztürk", "Demir", "Şahin", "Kaya", "Petrosyan", "Hovhannisyan",
};

static const char *const chinese_female[] = {
	"Mei", "Xiu", "Yan", "Jing", "Hui", "Lan", "Xiaoling", "Fang", "Ying", "Min",
};
static const char *const chinese_male[] = {
	"Wei", "Jian", "Hao", "Jun", "Lei", "Ming", "Qiang", "Yong", "Tao", "Zhiwei",
};
static const char *const chinese_family[] = {
	"Wang", "Li", "Zhang", "Liu", "Chen", "Yang", "Huang", "Zhao", "Wu", "Zhou", "Xu", "Sun",
	"Ma", "Zhu", "Hu", "Lin",
};
static const char *const korean_female[] = {
	"Ji-woo", "Seo-yeon", "Min-ji", "Soo-jin", "Hye-jin", "Eun-ji", "Ha-eun",
};
static const char *const korean_male[] = {
	"Min-jun", "Seo-jun", "Ji-ho", "Sung-min", "Jae-won", "Dong-hyun", "Hyun-woo",
};
static const char *const korean_family[] = {
	"Kim", "Park", "Choi", "Jung", "Kang", "Cho", "Yoon", "Jang", "Lim", "Han",
};
static const char *const japanese_female[] = {
	"Aiko", "Yuki", "Haruka", "Sakura", "Yui", "Akiko", "Naomi", "Emi",
};
static const char *const japanese_male[] = {
	"Hiroshi", "Takeshi", "Kenji", "Haruto", "Daiki", "Kaito", "Satoshi", "Yuto",
};
static const char *const japanese_family[] = {
	"Tanaka", "Suzuki", "Takahashi", "Watanabe", "Yamamoto", "Nakamura", "Kobayashi", "Sato",
	"Ito", "Kato",
};
static const char *const viet_female[] = {
	"Thanh", "Linh", "Hương", "Ngọc", "Mai", "Phương", "Thảo", "Trang", "Hà",
};
static const char *const viet_male[] = {
	"Minh", "Đức", "Tuấn", "Quang", "Huy", "Nam", "Hùng", "Long", "Phúc",
};
static const char *const viet_family[] = {
	"Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Phan", "Vũ", "Đặng", "Bùi", "Đỗ",
};
static const char *const south_asian_female[] = {
	"Priya", "Ananya", "Deepika", "Lakshmi", "Kavya", "Sunita", "Anjali", "Pooja", "Neha",
	"Divya", "Meera", "Shreya",
};
static const char *const south_asian_male[] = {
	"Arjun", "Rahul", "Vikram", "Sanjay", "Aarav", "Rohan", "Anil", "Ravi", "Amit", "Rajesh",
	"Suresh", "Harpreet",
};
static const char *const south_asian_family[] = {
	"Patel", "Shah", "Singh", "Kumar", "Sharma", "Gupta", "Reddy", "Rao", "Iyer",
	"Chatterjee", "Banerjee", "Desai", "Mehta", "Joshi", "Khan", "Chowdhury", "Rahman",
};
static const char *const arabic_female[] = {
	"Fatima", "Aisha", "Zainab", "Amina", "Khadija", "Layla", "Nour", "Yasmin", "Leila",
	"Mariam", "Rania", "Hana",
};
static const char *const arabic_male[] = {
	"Mohammed", "Ahmed", "Omar", "Ali", "Hassan", "Yusuf", "Ibrahim", "Karim", "Tariq",
	"Khalid", "Mustafa", "Samir",
};
static const char *const arabic_family[] = {
	"Haddad", "Khoury", "Mansour", "Hussein", "Abdullah", "Al-Sayed", "Nasser", "Saleh",
	"Hamdan", "Farah",
};
static const char *const african_female[] = {
	"Amara", "Chiamaka", "Ngozi", "Adaeze", "Abena", "Ama", "Folasade", "Wanjiru", "Thandiwe",
	"Makeda",
};
static const char *const african_male[] = {
	"Kwame", "Kofi", "Chinedu", "Emeka", "Oluwaseun", "Tunde", "Abebe", "Tesfaye", "Kamau",
	"Sipho",
};
static const char *const african_family[] = {
	"Okafor", "Okonkwo", "Adeyemi", "Mensah", "Owusu", "Diallo", "Traoré", "Kamara", "Abebe",
	"Tesfaye", "Mwangi", "Ochieng", "Ndlovu", "Boateng",
};

/* One origin of the population: its share and its name tables. */
struct demo_origin {
	unsigned weight; /* per mille of the population */
	struct demo_table female, male, family;
};

#define ORIGIN(w, f, m, fam, c) \
	{ \
		w, {f, HX_ARRAY_SIZE(f), c}, {m, HX_ARRAY_SIZE(m), c}, \
		{fam, HX_ARRAY_SIZE(fam), HX_ARRAY_SIZE(fam) / 5} \
	}

static const struct demo_origin origins[] = {
	ORIGIN(555, anglo_female, anglo_male, anglo_family, 30),
	ORIGIN(180, hispanic_female, hispanic_male, hispanic_family, 6),
	ORIGIN(90, europe_female, europe_male, europe_family, 5),
	ORIGIN(30, chinese_female, chinese_male, chinese_family, 3),
	ORIGIN(15, korean_female, korean_male, korean_family, 2),
	ORIGIN(10, japanese_female, japanese_male, japanese_family, 2),
	ORIGIN(15, viet_female, viet_male, viet_family, 2),
	ORIGIN(40, south_asian_female, south_asian_male, south_asian_family, 3),
	ORIGIN(35, arabic_female, arabic_male, arabic_family, 3),
	ORIGIN(30, african_female, african_male, african_family, 2),
};

const struct demo_table demo_family_hispanic = {
	hispanic_family, HX_ARRAY_SIZE(hispanic_family), HX_ARRAY_SIZE(hispanic_family) / 5};

const char *demo_table_pick(const struct demo_table *t, struct demo_rng *r)
{
	int head = demo_rng_chance(r, 0.3);
	size_t n = head && t->common > 0 ? t->common : t->n;
	return t->v[demo_rng_below(r, n)];
}

void demo_origin_pick(struct demo_rng *r, int female, const struct demo_table **given,
                      const struct demo_table **family, int *hispanic)
{
	uint64_t x = demo_rng_below(r, 1000);
	size_t i;

	for (i = 0; i + 1 < HX_ARRAY_SIZE(origins) && x >= origins[i].weight; i++)
		x -= origins[i].weight;
	*family = &origins[i].family;
	*hispanic = origins[i].family.v == hispanic_family;
	/* Immigrant families often choose English names: a third draw from the US table. */
	if (i != 0 && demo_rng_chance(r, 0.35))
		i = 0;
	*given = female ? &origins[i].female : &origins[i].male;
}

size_t demo_given_count(int female)
{
	size_t n = 0;
	for (size_t i = 0; i < HX_ARRAY_SIZE(origins); i++)
		n += female ? origins[i].female.n : origins[i].male.n;
	return n;
}

size_t demo_family_count(void)
{
	size_t n = 0;
	for (size_t i = 0; i < HX_ARRAY_SIZE(origins); i++)
		n += origins[i].family.n;
	return n;
}

/* ---- nicknames -------------------------------------------------------------------------- */

static const struct nick {
	const char *name;
	const char *nick[3];
} nicks[] = {
	{"Robert", {"Bob", "Rob", "Bobby"}},      {"William", {"Bill", "Will", "Billy"}},
	{"Elizabeth", {"Liz", "Beth", "Betty"}},  {"Katherine", {"Kate", "Kathy", "Katie"}},
	{"Catherine", {"Cathy", "Kate", NULL}},   {"Kathleen", {"Kathy", "Kate", NULL}},
	{"Margaret", {"Peggy", "Maggie", "Meg"}}, {"James", {"Jim", "Jimmy", "Jamie"}},
	{"John", {"Jack", "Johnny", NULL}},       {"Richard", {"Rick", "Dick", "Rich"}},
	{"Michael", {"Mike", "Mikey", NULL}},     {"Thomas", {"Tom", "Tommy", NULL}},
	{"Joseph", {"Joe", "Joey", NULL}},        {"Charles", {"Charlie", "Chuck", NULL}},
	{"Christopher", {"Chris", NULL, NULL}},   {"Daniel", {"Dan", "Danny", NULL}},
	{"Matthew", {"Matt", NULL, NULL}},        {"Anthony", {"Tony", NULL, NULL}},
	{"Edward", {"Ed", "Eddie", "Ted"}},       {"Steven", {"Steve", NULL, NULL}},
	{"Stephen", {"Steve", NULL, NULL}},       {"Andrew", {"Andy", "Drew", NULL}},
	{"Joshua", {"Josh", NULL, NULL}},         {"Kenneth", {"Ken", "Kenny", NULL}},
	{"Timothy", {"Tim", NULL, NULL}},         {"Benjamin", {"Ben", NULL, NULL}},
	{"Samuel", {"Sam", NULL, NULL}},          {"Alexander", {"Alex", NULL, NULL}},
	{"Nicholas", {"Nick", NULL, NULL}},       {"Jonathan", {"Jon", NULL, NULL}},
	{"Patrick", {"Pat", NULL, NULL}},         {"Gregory", {"Greg", NULL, NULL}},
	{"Raymond", {"Ray", NULL, NULL}},         {"Lawrence", {"Larry", NULL, NULL}},
	{"Gerald", {"Jerry", NULL, NULL}},        {"Ronald", {"Ron", "Ronnie", NULL}},
	{"Donald", {"Don", "Donnie", NULL}},      {"Douglas", {"Doug", NULL, NULL}},
	{"Frederick", {"Fred", NULL, NULL}},      {"Francis", {"Frank", NULL, NULL}},
	{"Jennifer", {"Jen", "Jenny", NULL}},     {"Patricia", {"Pat", "Patty", "Trish"}},
	{"Susan", {"Sue", "Susie", NULL}},        {"Deborah", {"Debbie", "Deb", NULL}},
	{"Debra", {"Debbie", NULL, NULL}},        {"Rebecca", {"Becky", NULL, NULL}},
	{"Jessica", {"Jess", NULL, NULL}},        {"Victoria", {"Vicky", "Tori", NULL}},
	{"Christine", {"Chris", "Chrissy", NULL}}, {"Barbara", {"Barb", NULL, NULL}},
	{"Dorothy", {"Dot", "Dottie", NULL}},     {"Kimberly", {"Kim", NULL, NULL}},
	{"Pamela", {"Pam", NULL, NULL}},          {"Cynthia", {"Cindy", NULL, NULL}},
	{"Alexandra", {"Alex", "Sasha", NULL}},   {"Abigail", {"Abby", NULL, NULL}},
	{"Samantha", {"Sam", NULL, NULL}},        {"Theresa", {"Terry", "Tess", NULL}},
	{"Jacqueline", {"Jackie", NULL, NULL}},   {"Natalie", {"Nat", NULL, NULL}},
	{"Madeline", {"Maddie", NULL, NULL}},     {"Frances", {"Fran", NULL, NULL}},
	{"Francisco", {"Paco", "Pancho", NULL}},  {"José", {"Pepe", NULL, NULL}},
	{"Guadalupe", {"Lupe", NULL, NULL}},      {"Ignacio", {"Nacho", NULL, NULL}},
	{"Roberto", {"Beto", NULL, NULL}},        {"Alejandro", {"Alex", NULL, NULL}},
	{"Aleksandr", {"Sasha", NULL, NULL}},     {"Dmitri", {"Dima", NULL, NULL}},
	{"Margarita", {"Rita", NULL, NULL}},      {"Mohammed", {"Mo", NULL, NULL}},
};

const char *demo_nickname(const char *given, struct demo_rng *r)
{
	for (size_t i = 0; i < HX_ARRAY_SIZE(nicks); i++) {
		if (strcmp(nicks[i].name, given) == 0) {
			size_t n = 1;
			while (n < 3 && nicks[i].nick[n] != NULL)
				n++;
			return nicks[i].nick[demo_rng_below(r, n)];
		}
	}
	return NULL;
}

size_t demo_nickname_count(void)
{
	return HX_ARRAY_SIZE(nicks);
}

/* ---- typing and transliteration helpers ------------------------------------------------- */

static const char *const key_neighbours[26] = {
	"qwsz", "vghn", "xdfv", "serfcx", "wrsd", "drtgvc", "ftyhbv", "gyujnb", "ujko", "huikmn",
	"jiolm", "kop", "njk", "bhjm", "iplk", "ol", "wa", "etdf", "awedxz", "ryfg", "yihj",
	"cfgb", "qeas", "zsdc", "tugh", "asx",
};

char demo_key_neighbour(char c, struct demo_rng *r)
{
	int upper = c >= 'A' && c <= 'Z';
	char lc = upper ? (char)(c - 'A' + 'a') : c;
	const char *nb;

	if (lc < 'a' || lc > 'z')
		return c;
	nb = key_neighbours[lc - 'a'];
	lc = nb[demo_rng_below(r, strlen(nb))];
	return upper ? (char)(lc - 'a' + 'A') : lc;
}

/* Every non-ASCII letter of the tables above, with its ASCII folding. */
static const struct fold {
	const char *utf8, *ascii;
} folds[] = {
	{"á", "a"}, {"à", "a"}, {"ä", "a"}, {"â", "a"}, {"ã", "a"}, {"å", "a"}, {"ă", "a"},
	{"ạ", "a"}, {"ả", "a"}, {"ầ", "a"}, {"ấ", "a"}, {"ặ", "a"}, {"é", "e"}, {"è", "e"},
	{"ê", "e"},
	{"ë", "e"}, {"ễ", "e"}, {"í", "i"}, {"ì", "i"}, {"ï", "i"}, {"ı", "i"}, {"ó", "o"},
	{"ò", "o"}, {"ô", "o"}, {"ö", "o"}, {"õ", "o"}, {"ø", "o"}, {"ọ", "o"}, {"ỗ", "o"},
	{"ơ", "o"}, {"ú", "u"}, {"ù", "u"}, {"û", "u"}, {"ü", "u"}, {"ũ", "u"}, {"ư", "u"},
	{"ứ", "u"},
	{"ñ", "n"}, {"ç", "c"}, {"ć", "c"}, {"č", "c"}, {"ł", "l"}, {"ś", "s"}, {"š", "s"},
	{"ş", "s"}, {"ř", "r"}, {"ž", "z"}, {"ý", "y"}, {"ß", "ss"}, {"đ", "d"}, {"Á", "A"},
	{"É", "E"}, {"Í", "I"}, {"Ó", "O"}, {"Ú", "U"}, {"Ö", "O"}, {"Ü", "U"}, {"Ł", "L"},
	{"Ş", "S"}, {"Š", "S"}, {"Č", "C"}, {"Ž", "Z"}, {"Đ", "D"},
};

int demo_ascii_fold(const char *s, char *out, size_t size)
{
	size_t o = 0;
	int changed = 0;

	while (*s != '\0' && o + 1 < size) {
		const char *rep = NULL;
		size_t skip = 1;
		if ((unsigned char)*s < 0x80) {
			out[o++] = *s++;
			continue;
		}
		changed = 1;
		for (size_t i = 0; i < HX_ARRAY_SIZE(folds); i++) {
			size_t n = strlen(folds[i].utf8);
			if (strncmp(s, folds[i].utf8, n) == 0) {
				rep = folds[i].ascii;
				skip = n;
				break;
			}
		}
		if (rep == NULL) /* drop an unknown character: its lead and continuation bytes */
			while (((unsigned char)s[skip] & 0xc0) == 0x80)
				skip++;
		for (; rep != NULL && *rep != '\0' && o + 1 < size; rep++)
			out[o++] = *rep;
		s += skip;
	}
	out[o] = '\0';
	return changed;
}

/* ---- addresses -------------------------------------------------------------------------- */

static const char *const streets[] = {
	"Main", "Oak", "Maple", "Cedar", "Elm", "Pine", "Washington", "Lake", "Hill", "Park",
	"Walnut", "Church", "Spring", "North", "Ridge", "Sunset", "Highland", "Mill", "River",
	"Meadow", "Jefferson", "Lincoln", "Madison", "Franklin", "Jackson", "Chestnut", "Willow",
	"Forest", "Cherry", "Dogwood", "Magnolia", "Hickory", "Birch", "Sycamore", "Poplar",
	"Laurel", "Prospect", "Pleasant", "Center", "Union", "Market", "Broad", "Liberty", "Water",
	"School", "Academy", "Orchard", "Valley", "Spruce", "Harbor", "Bay", "Summit", "Fairview",
	"Grove", "Lakeview", "Riverside", "Woodland", "Holly", "Juniper", "Aspen",
	"Martin Luther King Jr", "Cesar Chavez", "Kensington", "Lexington", "Sheridan", "Monroe",
	"Adams", "Greenwood", "Hawthorne", "Lafayette", "Evergreen", "Mockingbird", "Peachtree",
	"Bluebonnet", "Sequoia", "Canyon", "Mesa", "Alta Vista", "El Camino", "Prairie",
};
const struct demo_table demo_streets = {streets, HX_ARRAY_SIZE(streets), 20};

static const struct suffix {
	const char *abbrev, *full;
} suffixes[] = {
	{"St", "Street"}, {"Ave", "Avenue"}, {"Rd", "Road"},    {"Dr", "Drive"},
	{"Ln", "Lane"},   {"Blvd", "Boulevard"}, {"Ct", "Court"}, {"Way", "Way"},
	{"Pl", "Place"},  {"Ter", "Terrace"}, {"Cir", "Circle"}, {"Pkwy", "Parkway"},
};
static const char *const suffix_abbrevs[] = {
	"St", "Ave", "Rd", "Dr", "Ln", "Blvd", "Ct", "Way", "Pl", "Ter", "Cir", "Pkwy",
};
const struct demo_table demo_street_suffixes = {suffix_abbrevs, HX_ARRAY_SIZE(suffix_abbrevs),
                                                4};

const char *demo_suffix_long(const char *abbrev)
{
	for (size_t i = 0; i < HX_ARRAY_SIZE(suffixes); i++)
		if (strcmp(suffixes[i].abbrev, abbrev) == 0)
			return suffixes[i].full;
	return abbrev;
}

/* Real cities with one of their ZIP prefixes and area codes. Groups: 0 Northeast,
 * 1 Southeast, 2 Midwest, 3 South Central, 4 West. */
const struct demo_city demo_cities[] = {
	{"Boston", "MA", "021", "617", 0},        {"Worcester", "MA", "016", "508", 0},
	{"Springfield", "MA", "011", "413", 0},   {"Providence", "RI", "029", "401", 0},
	{"Hartford", "CT", "061", "860", 0},      {"New Haven", "CT", "065", "203", 0},
	{"New York", "NY", "100", "212", 0},      {"Brooklyn", "NY", "112", "718", 0},
	{"Buffalo", "NY", "142", "716", 0},       {"Rochester", "NY", "146", "585", 0},
	{"Albany", "NY", "122", "518", 0},        {"Newark", "NJ", "071", "973", 0},
	{"Jersey City", "NJ", "073", "201", 0},   {"Philadelphia", "PA", "191", "215", 0},
	{"Pittsburgh", "PA", "152", "412", 0},    {"Baltimore", "MD", "212", "410", 1},
	{"Washington", "DC", "200", "202", 1},    {"Richmond", "VA", "232", "804", 1},
	{"Raleigh", "NC", "276", "919", 1},       {"Charlotte", "NC", "282", "704", 1},
	{"Atlanta", "GA", "303", "404", 1},       {"Jacksonville", "FL", "322", "904", 1},
	{"Miami", "FL", "331", "305", 1},         {"Tampa", "FL", "336", "813", 1},
	{"Orlando", "FL", "328", "407", 1},       {"Nashville", "TN", "372", "615", 1},
	{"Memphis", "TN", "381", "901", 1},       {"Louisville", "KY", "402", "502", 1},
	{"Columbus", "OH", "432", "614", 2},      {"Cleveland", "OH", "441", "216", 2},
	{"Cincinnati", "OH", "452", "513", 2},    {"Detroit", "MI", "482", "313", 2},
	{"Grand Rapids", "MI", "495", "616", 2},  {"Indianapolis", "IN", "462", "317", 2},
	{"Chicago", "IL", "606", "312", 2},       {"Milwaukee", "WI", "532", "414", 2},
	{"Madison", "WI", "537", "608", 2},       {"Minneapolis", "MN", "554", "612", 2},
	{"Saint Paul", "MN", "551", "651", 2},    {"Des Moines", "IA", "503", "515", 2},
	{"St. Louis", "MO", "631", "314", 2},     {"Kansas City", "MO", "641", "816", 2},
	{"Omaha", "NE", "681", "402", 2},         {"New Orleans", "LA", "701", "504", 3},
	{"Houston", "TX", "770", "713", 3},       {"Dallas", "TX", "752", "214", 3},
	{"San Antonio", "TX", "782", "210", 3},   {"Austin", "TX", "787", "512", 3},
	{"El Paso", "TX", "799", "915", 3},       {"Oklahoma City", "OK", "731", "405", 3},
	{"Tulsa", "OK", "741", "918", 3},         {"Little Rock", "AR", "722", "501", 3},
	{"Denver", "CO", "802", "303", 4},        {"Albuquerque", "NM", "871", "505", 4},
	{"Phoenix", "AZ", "850", "602", 4},       {"Tucson", "AZ", "857", "520", 4},
	{"Salt Lake City", "UT", "841", "801", 4}, {"Las Vegas", "NV", "891", "702", 4},
	{"Los Angeles", "CA", "900", "213", 4},   {"San Diego", "CA", "921", "619", 4},
	{"San Jose", "CA", "951", "408", 4},      {"San Francisco", "CA", "941", "415", 4},
	{"Sacramento", "CA", "958", "916", 4},    {"Fresno", "CA", "937", "559", 4},
	{"Portland", "OR", "972", "503", 4},      {"Seattle", "WA", "981", "206", 4},
	{"Spokane", "WA", "992", "509", 4},       {"Boise", "ID", "837", "208", 4},
	{"Anchorage", "AK", "995", "907", 4},     {"Honolulu", "HI", "968", "808", 4},
};
const size_t demo_city_count = HX_ARRAY_SIZE(demo_cities);

const struct demo_city *demo_city_pick(unsigned group, struct demo_rng *r)
{
	size_t n = 0, k;

	if (!demo_rng_chance(r, 0.85))
		return &demo_cities[demo_rng_below(r, demo_city_count)];
	for (size_t i = 0; i < demo_city_count; i++)
		n += demo_cities[i].group == group;
	k = demo_rng_below(r, n);
	for (size_t i = 0; i < demo_city_count; i++)
		if (demo_cities[i].group == group && k-- == 0)
			return &demo_cities[i];
	return &demo_cities[0];
}

/* ---- organisation names ----------------------------------------------------------------- */

static const char *const org_prefixes[] = {
	"Riverside", "Mercy", "St. Luke's", "Lakeview", "Valley", "Memorial", "Good Samaritan",
	"Sacred Heart", "Providence", "Northside", "Cedar Grove", "Summit", "Bayview", "Highland",
	"Fairview", "Pinecrest", "Unity", "Harbor", "Parkside", "Westbrook", "St. Mary's",
	"Three Rivers", "Blue Ridge", "Lakeshore", "Meadowbrook", "Oak Hill", "Silver Springs",
	"Eastgate", "Crossroads", "Prairie View",
};
static const char *const org_suffixes[] = {
	"Medical Center", "General Hospital", "Community Hospital", "Health", "Family Medicine",
	"Regional Medical Center", "Clinic", "Health Partners", "Hospital", "Physicians Group",
};

void demo_org_name_make(uint64_t seed, unsigned org_index, char *out, size_t size)
{
	uint64_t h = demo_hash(seed, DEMO_S_ORG, 0, 0);
	uint64_t s = demo_hash(seed, DEMO_S_ORG, 1, org_index);
	const char *pre = org_prefixes[(h + org_index) % HX_ARRAY_SIZE(org_prefixes)];
	const char *suf = org_suffixes[s % HX_ARRAY_SIZE(org_suffixes)];
	size_t n = strlen(pre);

	/* Strings are short and size is at least 64 at every caller; cut cleanly anyway. */
	hx_strlcpy(out, pre, size);
	if (n + 1 < size) {
		out[n] = ' ';
		hx_strlcpy(out + n + 1, suf, size - n - 1);
	}
}
