-- Allergies (SNOMED CT, or RxNorm for drug allergies per SYSTEM); may be empty (optional file).
select
    patient as patient_id,
    encounter as encounter_id,
    start as allergy_start_date,
    stop as allergy_stop_date,
    {{ source_vocabulary_id('system', 'SNOMED') }} as allergy_vocabulary_id,
    trim(code) as allergy_code,
    description as allergy_description,
    extract_id,
    source_line
from {{ source('raw', 'allergies') }}
