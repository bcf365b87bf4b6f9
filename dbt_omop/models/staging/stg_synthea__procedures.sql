-- Procedures; event rows of every extract are kept as delivered.
select
    patient as patient_id,
    encounter as encounter_id,
    start as procedure_start_datetime,
    stop as procedure_stop_datetime,
    {{ source_vocabulary_id('system', 'SNOMED') }} as procedure_vocabulary_id,
    trim(code) as procedure_code,
    description as procedure_description,
    nullif(trim(reasoncode), '') as procedure_reason_code,
    extract_id,
    source_line
from {{ source('raw', 'procedures') }}
