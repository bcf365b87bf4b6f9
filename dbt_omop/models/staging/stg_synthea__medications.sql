-- Medication orders (RxNorm); event rows of every extract are kept as delivered.
select
    patient as patient_id,
    encounter as encounter_id,
    start as medication_start_datetime,
    stop as medication_stop_datetime,
    nullif(trim(payer), '') as payer_id,
    'RxNorm' as medication_vocabulary_id,
    trim(code) as medication_code,
    description as medication_description,
    dispenses as medication_dispenses,
    nullif(trim(reasoncode), '') as medication_reason_code,
    extract_id,
    source_line
from {{ source('raw', 'medications') }}
