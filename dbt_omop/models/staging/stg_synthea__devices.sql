-- Devices (SNOMED CT); event rows of every extract are kept as delivered.
select
    patient as patient_id,
    encounter as encounter_id,
    start as device_start_datetime,
    stop as device_stop_datetime,
    'SNOMED' as device_vocabulary_id,
    trim(code) as device_code,
    description as device_description,
    extract_id,
    source_line
from {{ source('raw', 'devices') }}
