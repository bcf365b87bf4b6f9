-- One row per organization (care site): the delivery from the latest extract wins.
with ranked as (
    {{ ranked_by_latest_extract('organizations', 'id') }}
)

select
    trim(id) as organization_id,
    name as organization_name,
    nullif(trim(state), '') as organization_state,
    nullif(trim(zip), '') as organization_zip,
    extract_id,
    source_line
from ranked
where extract_rank = 1
