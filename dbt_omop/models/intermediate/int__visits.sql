{{ config(materialized='view') }}
-- The visit spine: one row per collapsed visit (see int__encounter_visit for the rules).
-- Start/end: first start and last end of its encounters. Care site, provider and source
-- value: those of its anchor encounter (the first inpatient encounter of a stay, else the
-- first encounter).
-- The span and encounter count come from int__encounter_visit (windows over the visit's
-- encounters there), so the spine is its anchor rows: a view, as reading it is a filtered
-- scan (writing 1.4M rows with their 64-hex ids took ~2 s at 100k patients).
select
    visit_occurrence_id,
    encounter_id,
    person_id,
    visit_concept_id,
    cast(visit_start_datetime as date) as visit_start_date,
    visit_start_datetime,
    cast(visit_end_datetime as date) as visit_end_date,
    visit_end_datetime,
    encounter_class as visit_source_value,
    organization_id,
    care_site_id,
    provider_id,
    encounter_count,
    extract_id,
    source_line
from {{ ref('int__encounter_visit') }}
where is_visit_anchor
