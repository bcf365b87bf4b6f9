-- Vaccinations (CVX); the raw table exists but may be empty (optional file).
select
    patient as patient_id,
    encounter as encounter_id,
    date as immunization_datetime,
    'CVX' as immunization_vocabulary_id,
    trim(code) as immunization_code,
    description as immunization_description,
    extract_id,
    source_line
from {{ source('raw', 'immunizations') }}
