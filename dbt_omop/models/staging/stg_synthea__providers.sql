-- One row per provider: the delivery from the latest extract wins.
with ranked as (
    {{ ranked_by_latest_extract('providers', 'id') }}
)

select
    trim(id) as provider_id,
    nullif(trim(organization), '') as organization_id,
    nullif(upper(trim(gender)), '') as provider_gender,
    nullif(trim(speciality), '') as provider_specialty,
    extract_id,
    source_line
from ranked
where extract_rank = 1
