-- Diagnoses; event rows of every extract are kept as delivered.
select
    patient as patient_id,
    encounter as encounter_id,
    start as condition_start_date,
    stop as condition_stop_date,
    {{ source_vocabulary_id('system', 'SNOMED') }} as condition_vocabulary_id,
    trim(code) as condition_code,
    description as condition_description,
    extract_id,
    source_line
from {{ source('raw', 'conditions') }}
