-- A table, not a view like the other staging models: several models join it, and an
-- exact row count lets the planner put the big event side of their joins on the probe side.
{{ config(materialized='table') }}
-- One row per patient: the delivery from the most recently loaded extract wins.
-- A patient without a birth date cannot be a CDM person (year_of_birth is required).
-- person_id, the patient's CDM key, is hashed here once per patient: every model that maps
-- a patient pseudonym to its person (person, the clinical events, the visits, death) joins
-- this table for it, so the recipe lives in one place.
with ranked as (
    {{ ranked_by_latest_extract('patients', 'id') }}
)

select
    id as patient_id,
    {{ surrogate_id('id') }} as person_id,
    birthdate as birth_date,
    deathdate as death_date,
    nullif(upper(trim(gender)), '') as gender,
    nullif(lower(trim(race)), '') as race,
    nullif(lower(trim(ethnicity)), '') as ethnicity,
    nullif(trim(state), '') as state,
    extract_id,
    source_line
from ranked
where
    extract_rank = 1
    and birthdate is not null
