-- One row per encounter: the delivery from the most recently loaded extract wins.
with ranked as (
    {{ ranked_by_latest_extract('encounters', 'id') }}
)

select
    id as encounter_id,
    patient as patient_id,
    start as encounter_start_datetime,
    stop as encounter_stop_datetime,
    nullif(trim(organization), '') as organization_id,
    nullif(trim(provider), '') as provider_id,
    nullif(trim(payer), '') as payer_id,
    -- Normalised class: lower case, no spaces/dashes/underscores ('Urgent Care' -> 'urgentcare').
    replace(replace(replace(lower(trim(encounterclass)), ' ', ''), '_', ''), '-', '') as encounter_class,
    nullif(trim(code), '') as encounter_code,
    description as encounter_description,
    nullif(trim(reasoncode), '') as encounter_reason_code,
    extract_id,
    source_line
from ranked
where extract_rank = 1
