/* demo_clinical.c: document types, care settings, sections and the sentences they are made of. */
#include "demo_internal.h"

#include <string.h>

#define B(i) (1u << (i))

/* ---- care settings ---------------------------------------------------------------------- */

enum {
	SET_FAMILY, SET_INTERNAL, SET_CARDIO, SET_HOSP_MED, SET_HOSP_SURG, SET_ED, SET_RADIOLOGY,
	SET_LAB, SET_ENDO, SET_NEURO, SET_ORTHO, SET_GI, SET_OB, SET_FAMILY_NP, SET_ENDOSCOPY,
	SET_CATH, SET_OUTPT_SURG,
};

const struct demo_setting demo_settings[] = {
	[SET_FAMILY] = {"FMC", "Family medicine clinic", "394814009", "General practice",
	                "Primary care physician", "MD", DEMO_T_VISIT, 0},
	[SET_INTERNAL] = {"GIM", "General internal medicine clinic", "394802001",
	                  "General medicine", "Attending physician", "MD", DEMO_T_VISIT, 0},
	[SET_CARDIO] = {"CARD",
	                "Ambulatory Health Care Facilities; Clinic/Center; Rehabilitation: "
	                "Cardiac Facilities",
	                "394579002", "Cardiology", "Consulting physician", "MD", DEMO_T_VISIT, 0},
	[SET_HOSP_MED] = {"HOSP", "Hospital", "394802001", "General medicine", "Hospitalist", "MD",
	                  DEMO_T_STAY, 0},
	[SET_HOSP_SURG] = {"HOSP", "Hospital", "394609007", "General surgery", "Surgeon", "MD",
	                   DEMO_T_STAY, 0},
	[SET_ED] = {"ER", "Emergency room", "394576009", "Accident & emergency",
	            "Emergency physician", "MD", DEMO_T_ED, 0},
	[SET_RADIOLOGY] = {"RADDX", "Radiology diagnostics or therapeutics unit", "394914008",
	                   "Radiology", "Radiologist", "MD", DEMO_T_TEST, 0},
	[SET_LAB] = {"MBL", "Medical laboratory", "394915009", "General pathology", "Pathologist",
	             "MD", DEMO_T_TEST, 0},
	[SET_ENDO] = {"ENDO", "Endocrinology clinic", "394583002", "Endocrinology",
	              "Consulting physician", "MD", DEMO_T_VISIT, 0},
	[SET_NEURO] = {"NEUR", "Neurology clinic", "394591006", "Neurology",
	               "Consulting physician", "DO", DEMO_T_VISIT, 0},
	[SET_ORTHO] = {"ORTHO", "Orthopedics clinic", "394801008", "Trauma & orthopedics",
	               "Orthopedic surgeon", "MD", DEMO_T_VISIT, 0},
	[SET_GI] = {"GI", "Gastroenterology clinic", "394584008", "Gastroenterology",
	            "Gastroenterologist", "MD", DEMO_T_VISIT, 0},
	[SET_OB] = {"OB", "Obstetrics clinic", "394585009", "Obstetrics and gynecology",
	            "Obstetrician-gynecologist", "MD", DEMO_T_VISIT, 1},
	[SET_FAMILY_NP] = {"FMC", "Family medicine clinic", "394814009", "General practice",
	                   "Nurse practitioner", "NP", DEMO_T_VISIT, 0},
	[SET_ENDOSCOPY] = {"GIDX", "Gastroenterology diagnostics or therapeutics lab",
	                   "394584008", "Gastroenterology", "Gastroenterologist", "MD",
	                   DEMO_T_TEST, 0},
	[SET_CATH] = {"CATH", "Cardiac catheterization lab", "394579002", "Cardiology",
	              "Interventional cardiologist", "MD", DEMO_T_TEST, 0},
	[SET_OUTPT_SURG] = {"OF", "Outpatient facility", "394801008", "Trauma & orthopedics",
	                    "Orthopedic surgeon", "MD", DEMO_T_TEST, 0},
};
const size_t demo_setting_count = HX_ARRAY_SIZE(demo_settings);

/* ---- document types --------------------------------------------------------------------- */

#define CLINIC (B(SET_FAMILY) | B(SET_INTERNAL) | B(SET_FAMILY_NP))
#define SPECIALTY (B(SET_CARDIO) | B(SET_ENDO) | B(SET_NEURO) | B(SET_ORTHO) | B(SET_GI))

const struct demo_doc_type demo_doc_types[] = {
	{"34133-9", "Summary of episode note", "SUMMARY", "Summary document", 6,
	 CLINIC | B(SET_HOSP_MED), 0,
	 {DEMO_SEC_PROBLEMS, DEMO_SEC_MEDS, DEMO_SEC_ALLERGY, DEMO_SEC_RESULTS,
	  DEMO_SEC_ASSESS_PLAN}},
	{"11506-3", "Progress note", "NOTES", "Clinical note", 24,
	 CLINIC | SPECIALTY | B(SET_OB), 0,
	 {DEMO_SEC_CC, DEMO_SEC_HPI, DEMO_SEC_VITALS, DEMO_SEC_EXAM, DEMO_SEC_ASSESS_PLAN}},
	{"18842-5", "Discharge summary", "SUMMARY", "Summary document", 6,
	 B(SET_HOSP_MED) | B(SET_HOSP_SURG), 0,
	 {DEMO_SEC_ADMIT_DX, DEMO_SEC_COURSE, DEMO_SEC_DISCH_DX, DEMO_SEC_DISCH_MEDS,
	  DEMO_SEC_INSTRUCTIONS}},
	{"11488-4", "Consult note", "NOTES", "Clinical note", 8, SPECIALTY, 0,
	 {DEMO_SEC_REFERRAL, DEMO_SEC_HPI, DEMO_SEC_PMH, DEMO_SEC_MEDS, DEMO_SEC_EXAM,
	  DEMO_SEC_ASSESS_PLAN}},
	{"34117-2", "History and physical note", "NOTES", "Clinical note", 6,
	 CLINIC | B(SET_HOSP_MED) | B(SET_HOSP_SURG), 0,
	 {DEMO_SEC_CC, DEMO_SEC_HPI, DEMO_SEC_PMH, DEMO_SEC_MEDS, DEMO_SEC_ALLERGY,
	  DEMO_SEC_SOCIAL, DEMO_SEC_VITALS, DEMO_SEC_EXAM, DEMO_SEC_ASSESS_PLAN}},
	{"57133-1", "Referral note", "REFERRAL", "Referral", 5, CLINIC, 0,
	 {DEMO_SEC_REFERRAL, DEMO_SEC_HPI, DEMO_SEC_PROBLEMS, DEMO_SEC_MEDS, DEMO_SEC_PLAN}},
	{"18748-4", "Diagnostic imaging study", "REPORTS", "Diagnostic report", 10,
	 B(SET_RADIOLOGY), 0,
	 {DEMO_SEC_STUDY_REASON, DEMO_SEC_FINDINGS, DEMO_SEC_IMPRESSION}},
	{"11502-2", "Laboratory report", "REPORTS", "Diagnostic report", 14, B(SET_LAB), 0,
	 {DEMO_SEC_RESULTS}},
	{"28570-0", "Procedure note", "NOTES", "Clinical note", 5, 0, 1,
	 {DEMO_SEC_PROC_IND, DEMO_SEC_PROC_DESC, DEMO_SEC_PROC_FINDINGS, DEMO_SEC_COMPLICATIONS,
	  DEMO_SEC_PLAN}},
	{"34111-5", "Emergency department note", "NOTES", "Clinical note", 8, B(SET_ED), 0,
	 {DEMO_SEC_CC, DEMO_SEC_HPI, DEMO_SEC_VITALS, DEMO_SEC_EXAM, DEMO_SEC_RESULTS,
	  DEMO_SEC_ASSESS_PLAN}},
	{"18761-7", "Transfer summary note", "SUMMARY", "Summary document", 2, B(SET_HOSP_MED), 0,
	 {DEMO_SEC_ADMIT_DX, DEMO_SEC_COURSE, DEMO_SEC_MEDS, DEMO_SEC_PLAN}},
	{"11504-8", "Surgical operation note", "NOTES", "Clinical note", 3, 0, 2,
	 {DEMO_SEC_PROC_IND, DEMO_SEC_PROC_DESC, DEMO_SEC_PROC_FINDINGS, DEMO_SEC_COMPLICATIONS}},
	{"60591-5", "Patient summary Document", "SUMMARY", "Summary document", 3, CLINIC, 0,
	 {DEMO_SEC_PROBLEMS, DEMO_SEC_MEDS, DEMO_SEC_ALLERGY, DEMO_SEC_SOCIAL, DEMO_SEC_PLAN}},
};
const size_t demo_doc_type_count = HX_ARRAY_SIZE(demo_doc_types);

/* ---- sentence templates ------------------------------------------------------------------
 * Slots: {patient} "Ms. García", {age}, {sexw} man/woman/boy/girl, {he} {his} {him}, {cond}
 * the document's main condition, {acute}, {study}, {proc}, {indication}, vital signs {bp}
 * {hr} {rr} {temp} {spo2} {wt}, numbers {n} {pain} {year} {size} {ef}, {job}, and the tables
 * of demo_slot_table(). A capitalised slot name capitalises the value.
 */

static const char *const t_cc[] = {
	"{Sym} for {dur}.", "Follow-up of {cond}.", "Routine follow-up visit.", "{Sym}.",
	"Medication review and refills.", "Annual wellness examination.",
	"{Sym}, worse over the past {dur}.",
};
static const char *const t_hpi[] = {
	("{Patient} is a {aged} {sexw} with a history of {cond} who presents with {sym} "
	 "for {dur}."),
	"{He} reports that the symptoms began gradually and have been {course}.",
	"{He} denies fever, chills or unintentional weight loss.",
	"The {sym} is worse in the evening and improves with rest.",
	"{He} has tried over-the-counter acetaminophen with partial relief.",
	"There is no history of recent travel or sick contacts.",
	"{His} {cond} has been managed with {cmed}.",
	"{He} was last seen in clinic {fu} ago for {cond}.",
	"Review of systems is otherwise negative except as noted above.",
	"{He} rates the discomfort {pain} out of 10.",
	"The symptoms are associated with {sym2}.",
	"{He} has been sleeping poorly because of the symptoms.",
	"Family members report that {he} has been more tired than usual.",
	"{He} reports good adherence to {his} medications.",
};
static const char *const t_pmh[] = {
	"{Cond}, diagnosed {n} years ago.", "History of {cond2}.", "{Cond2}, on treatment.",
	"Status post {proc} in {year}.", "No prior hospitalizations.",
	"Hospitalized in {year} for {acute}.",
};
static const char *const t_pmh_child[] = {
	"{Cond}, diagnosed {n} years ago.", "History of {cond2}.",
	"Born at term after an uncomplicated pregnancy.", "Immunizations are up to date.",
	"No prior hospitalizations.",
};
static const char *const t_med[] = {"{Cmed}", "{Med}"};
static const char *const t_allergy[] = {"{Allergy}"};
static const char *const t_social[] = {
	"Never smoker.", "Former smoker, quit {n} years ago.",
	"Drinks alcohol socially, about {n} drinks per week.", "Lives with {household}.",
	"Works as {job}.", "Walks for exercise {n} times a week.", "Denies illicit drug use.",
};
static const char *const t_social_child[] = {
	"Lives with {his} parents and a sibling.", "Attends school and is doing well.",
	"No tobacco smoke exposure in the home.", "Plays soccer {n} times a week.",
};
static const char *const t_vitals[] = {
	"Blood pressure {bp} mmHg, heart rate {hr} beats per minute, respiratory rate {rr} "
	"breaths per minute, temperature {temp} °F, oxygen saturation {spo2}% on room air, "
	"weight {wt} kg.",
};
static const char *const t_exam[] = {
	"General: alert, oriented and in no acute distress.",
	"HEENT: normocephalic, atraumatic; pupils equal, round and reactive to light.",
	"Neck: supple, no lymphadenopathy or thyromegaly.",
	"Lungs: clear to auscultation bilaterally without wheezes or crackles.|"
	"Lungs: scattered expiratory wheezes, no crackles.|"
	"Lungs: bibasilar crackles, no wheezes.",
	"Heart: regular rate and rhythm, no murmurs, rubs or gallops.|"
	"Heart: regular rate and rhythm, soft systolic murmur at the left sternal border.|"
	"Heart: irregularly irregular rhythm, no murmur.",
	"Abdomen: soft, non-tender, non-distended, normal bowel sounds.|"
	"Abdomen: mild tenderness in the right upper quadrant without rebound or guarding.",
	"Extremities: no edema, distal pulses intact.|Extremities: trace bilateral ankle edema.",
	"Musculoskeletal: tenderness over the lumbar paraspinal muscles, full range of motion.|"
	"Musculoskeletal: crepitus of both knees with mild effusion on the right.",
	"Skin: warm and dry, no rashes.",
	"Neurologic: cranial nerves II-XII grossly intact, strength 5/5 throughout.",
	"Psychiatric: normal mood and affect.",
};
static const char *const t_problem[] = {"{Cond}", "{Cond2}", "{Cond2}", "{Acute}, resolved"};
static const char *const t_assess[] = {
	"{Cond}: stable. Continue {cmed}.|"
	"{Cond}: not at goal. Adjust {cmed} and recheck in {fu}.|"
	"{Cond}: improving on the current regimen.",
	"{Sym}: likely musculoskeletal. Conservative management with heat, stretching and "
	"acetaminophen as needed.|"
	"{Sym}: etiology unclear; further evaluation as below.",
	"Ordered {study} to further evaluate.",
	"Refer to {spec} for further evaluation.",
	"Discussed diet, exercise and weight management; the patient verbalized understanding.",
	"Return to clinic in {fu}, sooner if symptoms worsen.",
	"Labs ordered: complete blood count, comprehensive metabolic panel and lipid panel.",
	"Influenza vaccine administered today.",
	"Medication list reconciled and reviewed with the patient.",
};
static const char *const t_plan[] = {
	"Continue current medications.", "Follow up with primary care in {fu}.",
	"Return precautions were reviewed and the patient agrees with the plan.",
	"Ordered {study}.", "Refer to {spec}.", "Recheck laboratory studies in {fu}.",
	"Continue {med}.",
};
static const char *const t_referral[] = {
	"Referred to {spec} for evaluation of {cond}.",
	"Please evaluate and advise on the management of {sym}.",
	"Pertinent records and recent results are attached.",
	"The patient has been informed of the referral and agrees with the plan.",
};
static const char *const t_admit[] = {"{Acute}", "{Cond}", "{Cond2}"};
static const char *const t_course[] = {
	"{Patient} was admitted to the medical floor for management of {acute}.",
	"{He} was started on intravenous fluids and empiric antibiotics.",
	"Cultures remained negative and antibiotics were narrowed on hospital day {n}.",
	"{His} symptoms improved steadily and {he} tolerated a regular diet.",
	"Physical therapy evaluated {him} and recommended discharge home with outpatient therapy.",
	"Renal function returned to baseline by the time of discharge.",
	"{He} remained hemodynamically stable throughout the admission.",
	"Home medications were resumed before discharge.",
	"Cardiology was consulted and recommended continued medical management.",
	"Pain was controlled with oral analgesics.",
};
static const char *const t_instructions[] = {
	"Take all medications as prescribed.",
	"Follow up with your primary care provider in {fu}.",
	("Return to the emergency department for fever, chest pain, shortness of breath or "
	 "worsening symptoms."),
	"Resume normal activity as tolerated; avoid heavy lifting for two weeks.",
	"A low-sodium, heart-healthy diet is recommended.",
};
static const char *const t_reason[] = {
	"{Sym} for {dur}.", "Evaluate for {acute}.", "Follow-up of known {cond}.",
};
static const char *const t_proc_ind[] = {
	"{Proc} for {indication}.",
	"The patient has {indication} and was referred for {proc}.",
};
static const char *const t_proc_desc[] = {
	"The risks, benefits and alternatives of {proc} were discussed and informed consent was "
	"obtained.",
	"A time-out was performed confirming the patient's identity, the procedure and the site.",
	"{Anesth} was administered.",
	"The {proc} was performed in the usual fashion without difficulty.",
	"Estimated blood loss was minimal.",
	"The patient tolerated the procedure well and was transferred to recovery in stable "
	"condition.",
};
static const char *const t_complications[] = {"None.", "No immediate complications."};
static const char *const t_padding[] = {
	"On interval review, {he} reports {sym2} that has been {course}.",
	"{His} {cond} was discussed in detail, including treatment goals and expected course.",
	"We reviewed {his} current medications, including {med}, and possible side effects.",
	"{He} was counseled on the warning signs that should prompt an earlier visit.",
	"Previous records were reviewed and are consistent with the history above.",
	"{He} asked appropriate questions, which were answered to {his} satisfaction.",
	"Home monitoring results were reviewed and show no concerning trend.",
	"Preventive care was discussed, including vaccinations and age-appropriate screening.",
	"The plan was coordinated with {spec}, who agrees with the current approach.",
	"{He} will keep a symptom diary until the next visit.",
	"Time spent on counseling and coordination of care exceeded half of the visit.",
	"The most recent laboratory studies were reviewed with {him}.",
	"No barriers to learning were identified and written instructions were provided.",
	"Follow-up is planned in {fu} or sooner as needed.",
	"{His} weight and blood pressure trends since the last visit were reviewed.",
	"{He} reports good tolerance of {med} without new side effects.",
	"Shared decision-making was used to agree on the next steps.",
	"{He} has been keeping up with a home exercise program.",
	"Records from the previous hospitalization for {acute} were reviewed.",
	"There have been no emergency visits since the last appointment.",
	"A care plan summary was given to {him} in writing.",
	"Screening questionnaires for depression and fall risk were negative.",
	"{He} was encouraged to use the patient portal for questions.",
	"Care was coordinated with the pharmacy regarding refills.",
};

#define T(a) a, HX_ARRAY_SIZE(a)
#define NOCHILD NULL, 0

const struct demo_section demo_sections[DEMO_SEC_COUNT] = {
	[DEMO_SEC_CC] = {"10154-3", "Chief complaint", DEMO_GEN_TEXT, T(t_cc), NOCHILD, 1, 1, 0, 0},
	[DEMO_SEC_HPI] = {"10164-2", "History of present illness", DEMO_GEN_TEXT, T(t_hpi),
	                  NOCHILD, 3, 6, 1, 0},
	[DEMO_SEC_PMH] = {"11348-0", "Past medical history", DEMO_GEN_LIST, T(t_pmh),
	                  T(t_pmh_child), 1, 3, 0, 0},
	[DEMO_SEC_MEDS] = {"10160-0", "Medications", DEMO_GEN_LIST, T(t_med), NOCHILD, 1, 5, 1, 0},
	[DEMO_SEC_ALLERGY] = {"48765-2", "Allergies and adverse reactions", DEMO_GEN_LIST,
	                      T(t_allergy), NOCHILD, 1, 2, 0, 0},
	[DEMO_SEC_SOCIAL] = {"29762-2", "Social history", DEMO_GEN_TEXT, T(t_social),
	                     T(t_social_child), 2, 3, 0, 1},
	[DEMO_SEC_VITALS] = {"8716-3", "Vital signs", DEMO_GEN_TEXT, T(t_vitals), NOCHILD, 1, 1,
	                     0, 0},
	[DEMO_SEC_EXAM] = {"29545-1", "Physical examination", DEMO_GEN_LIST, T(t_exam), NOCHILD,
	                   4, 8, 1, 1},
	[DEMO_SEC_RESULTS] = {"30954-2", "Results", DEMO_GEN_LABS, NULL, 0, NOCHILD, 1, 3, 0, 0},
	[DEMO_SEC_PROBLEMS] = {"11450-4", "Problem list", DEMO_GEN_LIST, T(t_problem), NOCHILD,
	                       1, 4, 1, 0},
	[DEMO_SEC_ASSESS_PLAN] = {"51847-2", "Assessment and plan", DEMO_GEN_TEXT, T(t_assess),
	                          NOCHILD, 2, 5, 1, 0},
	[DEMO_SEC_PLAN] = {"18776-5", "Plan of treatment", DEMO_GEN_TEXT, T(t_plan), NOCHILD, 2,
	                   4, 0, 0},
	[DEMO_SEC_REFERRAL] = {"42349-1", "Reason for referral", DEMO_GEN_TEXT, T(t_referral),
	                       NOCHILD, 1, 3, 1, 1},
	[DEMO_SEC_ADMIT_DX] = {"46241-6", "Admission diagnosis", DEMO_GEN_LIST, T(t_admit),
	                       NOCHILD, 1, 2, 1, 1},
	[DEMO_SEC_COURSE] = {"8648-8", "Hospital course", DEMO_GEN_TEXT, T(t_course), NOCHILD, 3,
	                     7, 1, 1},
	[DEMO_SEC_DISCH_DX] = {"11535-2", "Discharge diagnosis", DEMO_GEN_LIST, T(t_admit),
	                       NOCHILD, 1, 3, 1, 1},
	[DEMO_SEC_DISCH_MEDS] = {"10183-2", "Discharge medications", DEMO_GEN_LIST, T(t_med),
	                         NOCHILD, 2, 5, 1, 0},
	[DEMO_SEC_INSTRUCTIONS] = {"69730-0", "Instructions", DEMO_GEN_TEXT, T(t_instructions),
	                           NOCHILD, 2, 4, 1, 1},
	[DEMO_SEC_STUDY_REASON] = {"18785-6", "Reason for study", DEMO_GEN_TEXT, T(t_reason),
	                           NOCHILD, 1, 1, 0, 0},
	[DEMO_SEC_FINDINGS] = {"18782-3", "Findings", DEMO_GEN_FINDINGS, NULL, 0, NOCHILD, 0, 0,
	                       0, 0},
	[DEMO_SEC_IMPRESSION] = {"19005-8", "Impression", DEMO_GEN_IMPRESSION, NULL, 0, NOCHILD,
	                         0, 0, 0, 0},
	[DEMO_SEC_PROC_IND] = {"59768-2", "Procedure indications", DEMO_GEN_TEXT, T(t_proc_ind),
	                       NOCHILD, 1, 1, 0, 0},
	[DEMO_SEC_PROC_DESC] = {"29554-3", "Procedure description", DEMO_GEN_TEXT,
	                        T(t_proc_desc), NOCHILD, 4, 6, 2, 1},
	[DEMO_SEC_PROC_FINDINGS] = {"59776-5", "Procedure findings", DEMO_GEN_PROC_FINDINGS,
	                            NULL, 0, NOCHILD, 0, 0, 0, 0},
	[DEMO_SEC_COMPLICATIONS] = {"55109-3", "Complications", DEMO_GEN_TEXT,
	                            T(t_complications), NOCHILD, 1, 1, 0, 0},
};

const struct demo_section demo_padding = {NULL, "Additional notes", DEMO_GEN_TEXT,
                                          T(t_padding), NOCHILD, 1, 1, 0, 0};

/* ---- slot tables ------------------------------------------------------------------------ */

static const char *const v_sym[] = {
	"chest pain", "shortness of breath", "intermittent headaches", "lower back pain",
	"fatigue", "dizziness", "abdominal pain", "a persistent cough", "pain in both knees",
	"palpitations", "nausea", "swelling of the ankles", "fever and chills",
	"a rash on the forearm", "difficulty sleeping", "blurred vision", "burning on urination",
	"right shoulder pain", "numbness in the left hand", "wheezing",
};
static const char *const v_dur[] = {
	"two days", "three days", "one week", "about ten days", "three weeks", "a month",
	"several months", "six months",
};
static const char *const v_course[] = {
	"worsening over the past week", "stable", "intermittent", "improving with rest",
	"slowly progressive", "unchanged since the last visit",
};
static const char *const v_acute[] = {
	"community-acquired pneumonia", "acute exacerbation of COPD",
	"acute decompensated heart failure", "cellulitis of the left lower extremity",
	"acute pyelonephritis", "diabetic ketoacidosis", "non-ST elevation myocardial infarction",
	"acute cholecystitis", "small bowel obstruction", "syncope", "acute kidney injury",
	"upper gastrointestinal bleeding", "sepsis from a urinary tract infection",
};
static const char *const v_acute_child[] = {
	"bronchiolitis", "asthma exacerbation", "acute gastroenteritis with dehydration",
	"community-acquired pneumonia", "febrile seizure",
};
static const char *const v_med[] = {
	"lisinopril 10 mg daily", "metformin 500 mg twice daily", "atorvastatin 40 mg at bedtime",
	"levothyroxine 75 mcg daily", "amlodipine 5 mg daily", "omeprazole 20 mg daily",
	"albuterol inhaler as needed", "sertraline 50 mg daily", "metoprolol succinate 25 mg daily",
	"apixaban 5 mg twice daily", "gabapentin 300 mg at bedtime",
	"hydrochlorothiazide 25 mg daily", "insulin glargine 20 units at bedtime",
	"losartan 50 mg daily", "montelukast 10 mg daily", "acetaminophen 500 mg as needed",
	"furosemide 20 mg daily", "tiotropium inhaler daily",
};
static const char *const v_med_child[] = {
	"amoxicillin 400 mg/5 mL suspension", "albuterol inhaler as needed",
	"cetirizine 5 mg daily", "fluticasone nasal spray daily", "ibuprofen suspension as needed",
	"polyethylene glycol 8.5 g daily",
};
static const char *const v_allergy[] = {
	"Penicillin (hives)", "Sulfa drugs (rash)", "No known drug allergies",
	"No known drug allergies", "Latex (contact dermatitis)", "Shellfish (anaphylaxis)",
	"Codeine (nausea)", "Peanuts (urticaria)",
};
static const char *const v_fu[] = {
	"two weeks", "four weeks", "six weeks", "three months", "six months", "one month",
};
static const char *const v_anesth[] = {
	"Moderate sedation", "General anesthesia", "Local anesthesia with 1% lidocaine",
	"Monitored anesthesia care",
};
static const char *const v_household[] = {
	"{his} spouse", "family", "a roommate", "{his} daughter", "{his} partner and two children",
};

static const struct slot {
	const char *name;
	struct demo_table adult, child;
} slots[] = {
	{"sym2", {T(v_sym), 0}, {NULL, 0, 0}},
	{"dur", {T(v_dur), 0}, {NULL, 0, 0}},
	{"course", {T(v_course), 0}, {NULL, 0, 0}},
	{"acute", {T(v_acute), 0}, {T(v_acute_child), 0}},
	{"med", {T(v_med), 0}, {T(v_med_child), 0}},
	{"allergy", {T(v_allergy), 0}, {NULL, 0, 0}},
	{"fu", {T(v_fu), 0}, {NULL, 0, 0}},
	{"anesth", {T(v_anesth), 0}, {NULL, 0, 0}},
	{"household", {T(v_household), 0}, {NULL, 0, 0}},
};

const struct demo_table *demo_slot_table(const char *name, size_t len, int child)
{
	for (size_t i = 0; i < HX_ARRAY_SIZE(slots); i++) {
		const struct slot *s = &slots[i];
		if (strlen(s->name) == len && strncmp(s->name, name, len) == 0)
			return child && s->child.v != NULL ? &s->child : &s->adult;
	}
	return NULL;
}

/* ---- conditions ----------------------------------------------------------------------- */

const struct demo_condition demo_conditions[] = {
	{"hypertension", "cardiology", "lisinopril 10 mg daily", 0},
	{"type 2 diabetes mellitus", "endocrinology", "metformin 500 mg twice daily", 0},
	{"hyperlipidemia", "cardiology", "atorvastatin 40 mg at bedtime", 0},
	{"asthma", "pulmonology", "an albuterol inhaler as needed", 0},
	{"chronic obstructive pulmonary disease", "pulmonology", "a daily tiotropium inhaler", 0},
	{"osteoarthritis", "orthopedics", "acetaminophen 500 mg as needed", 0},
	{"hypothyroidism", "endocrinology", "levothyroxine 75 mcg daily", 0},
	{"gastroesophageal reflux disease", "gastroenterology", "omeprazole 20 mg daily", 0},
	{"major depressive disorder", "behavioral health", "sertraline 50 mg daily", 0},
	{"atrial fibrillation", "cardiology", "apixaban 5 mg twice daily", 0},
	{"chronic kidney disease stage 3", "nephrology", "losartan 50 mg daily", 0},
	{"migraine", "neurology", "sumatriptan 50 mg as needed", 0},
	{"obstructive sleep apnea", "pulmonology", "nightly CPAP", 0},
	{"coronary artery disease", "cardiology", "aspirin 81 mg daily", 0},
	{"iron deficiency anemia", "hematology", "ferrous sulfate 325 mg daily", 0},
	{"generalized anxiety disorder", "behavioral health", "escitalopram 10 mg daily", 0},
	{"chronic low back pain", "physical therapy", "gabapentin 300 mg at bedtime", 0},
	{"heart failure with preserved ejection fraction", "cardiology", "furosemide 20 mg daily",
	 0},
	{"asthma", "pediatric pulmonology", "an albuterol inhaler as needed", 1},
	{"atopic dermatitis", "dermatology", "hydrocortisone 2.5% cream twice daily", 1},
	{"recurrent otitis media", "otolaryngology", "amoxicillin 400 mg/5 mL suspension", 1},
	{"allergic rhinitis", "allergy and immunology", "cetirizine 5 mg daily", 1},
	{"attention deficit hyperactivity disorder", "behavioral health",
	 "methylphenidate 10 mg daily", 1},
	{"constipation", "pediatric gastroenterology", "polyethylene glycol 8.5 g daily", 1},
};
const size_t demo_condition_count = HX_ARRAY_SIZE(demo_conditions);

/* ---- imaging, procedures, labs ---------------------------------------------------------- */

const struct demo_study demo_studies[] = {
	{"Chest radiograph, two views",
	 {"The lungs are clear without focal consolidation, effusion or pneumothorax.",
	  "The cardiomediastinal silhouette is within normal limits.",
	  "There is a {size} mm nodule in the right upper lobe.",
	  "The visualized osseous structures are unremarkable.", NULL},
	 "No acute cardiopulmonary process. A {size} mm right upper lobe nodule; follow-up CT in "
	 "12 months is suggested."},
	{"CT abdomen and pelvis with contrast",
	 {"The liver, spleen, pancreas and adrenal glands are unremarkable.",
	  "The kidneys enhance symmetrically without hydronephrosis.",
	  "Sigmoid diverticulosis without surrounding inflammation.",
	  "The appendix is normal. No free fluid or free air.", NULL},
	 "Sigmoid diverticulosis without evidence of diverticulitis. No acute abnormality."},
	{"MRI lumbar spine without contrast",
	 {"Vertebral body heights and alignment are maintained.",
	  "Mild disc desiccation and a broad-based bulge at L4-L5 with mild bilateral foraminal "
	  "narrowing.",
	  "The conus medullaris terminates normally at L1.",
	  "No high-grade canal stenosis at any level.", NULL},
	 "Mild degenerative disc disease at L4-L5 without high-grade stenosis."},
	{"CT head without contrast",
	 {"No intracranial hemorrhage, mass effect or midline shift.",
	  "Gray-white matter differentiation is preserved.",
	  "The ventricles and sulci are appropriate for age.",
	  "The visualized paranasal sinuses and mastoid air cells are clear.", NULL},
	 "No acute intracranial abnormality."},
	{"Ultrasound of the right upper quadrant",
	 {"The liver is normal in size and echotexture.",
	  "The gallbladder contains several mobile stones without wall thickening or "
	  "pericholecystic fluid.",
	  "The common bile duct measures {size} mm.", "The right kidney is unremarkable.", NULL},
	 "Cholelithiasis without sonographic evidence of acute cholecystitis."},
	{"Radiograph of the right knee, three views",
	 {"No acute fracture or dislocation.",
	  "Mild medial joint space narrowing with marginal osteophytes.",
	  "Small suprapatellar joint effusion.", "The soft tissues are unremarkable.", NULL},
	 "Mild medial compartment osteoarthritis. No acute osseous abnormality."},
	{"Transthoracic echocardiogram",
	 {"Left ventricular size and wall thickness are normal.",
	  "Left ventricular ejection fraction is estimated at {ef}%.",
	  "No significant valvular stenosis or regurgitation.",
	  "Right ventricular size and systolic function are normal.", NULL},
	 "Normal biventricular systolic function with an estimated ejection fraction of {ef}%."},
};
const size_t demo_study_count = HX_ARRAY_SIZE(demo_studies);

const struct demo_proc demo_procs[] = {
	{"colonoscopy", "colorectal cancer screening",
	 "Two small sessile polyps were removed from the sigmoid colon with a cold snare.",
	 SET_ENDOSCOPY, 0},
	{"upper endoscopy", "chronic dyspepsia",
	 "Mild erythema of the gastric antrum; biopsies were obtained.", SET_ENDOSCOPY, 0},
	{"left heart catheterization", "an abnormal stress test",
	 "Moderate non-obstructive disease of the left anterior descending artery.", SET_CATH, 0},
	{"lumbar puncture", "headache with concern for meningitis",
	 "The opening pressure was normal and the fluid was clear.", SET_ED, 0},
	{"excision of a skin lesion", "an enlarging pigmented lesion of the back",
	 "A 1.2 cm lesion was excised with 4 mm margins and sent to pathology.", SET_FAMILY, 1},
	{"laparoscopic cholecystectomy", "symptomatic cholelithiasis",
	 "The gallbladder was mildly inflamed and contained multiple stones.", SET_HOSP_SURG, 1},
	{"right knee arthroscopy", "a medial meniscal tear",
	 "A complex tear of the posterior horn of the medial meniscus was debrided.",
	 SET_OUTPT_SURG, 1},
	{"carpal tunnel release", "carpal tunnel syndrome",
	 "The transverse carpal ligament was completely released.", SET_OUTPT_SURG, 1},
};
const size_t demo_proc_count = HX_ARRAY_SIZE(demo_procs);

const char *const demo_lab_panels[] = {
	"Basic metabolic panel", "Complete blood count", "Lipid panel", "Endocrine studies",
	"Hepatic function panel",
};
const size_t demo_lab_panel_count = HX_ARRAY_SIZE(demo_lab_panels);

const struct demo_lab demo_labs[] = {
	{0, "Sodium", "mmol/L", 136, 145, 0},       {0, "Potassium", "mmol/L", 35, 51, 1},
	{0, "Chloride", "mmol/L", 98, 107, 0},      {0, "Carbon dioxide", "mmol/L", 22, 29, 0},
	{0, "Urea nitrogen", "mg/dL", 7, 20, 0},    {0, "Creatinine", "mg/dL", 60, 120, 2},
	{0, "Glucose", "mg/dL", 70, 99, 0},         {0, "Calcium", "mg/dL", 86, 103, 1},
	{1, "WBC", "10*3/uL", 40, 110, 1},          {1, "Hemoglobin", "g/dL", 120, 175, 1},
	{1, "Hematocrit", "%", 36, 52, 0},          {1, "Platelets", "10*3/uL", 150, 400, 0},
	{2, "Cholesterol, total", "mg/dL", 125, 200, 0},
	{2, "LDL cholesterol", "mg/dL", 50, 100, 0}, {2, "HDL cholesterol", "mg/dL", 40, 90, 0},
	{2, "Triglycerides", "mg/dL", 40, 150, 0},  {3, "Hemoglobin A1c", "%", 40, 56, 1},
	{3, "TSH", "mIU/L", 40, 450, 2},            {4, "ALT", "U/L", 7, 56, 0},
	{4, "AST", "U/L", 10, 40, 0},               {4, "Alkaline phosphatase", "U/L", 44, 147, 0},
	{4, "Bilirubin, total", "mg/dL", 1, 12, 1}, {4, "Albumin", "g/dL", 35, 50, 1},
};
const size_t demo_lab_count = HX_ARRAY_SIZE(demo_labs);
