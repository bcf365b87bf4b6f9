-- OMOP CDM v5.4 LOCATION: one row per distinct state of patients and organizations (no
-- finer address is ever loaded). `state` holds a 2-letter value as is; longer names
-- (Synthea writes e.g. 'Massachusetts') stay in location_source_value only.
-- Id: surrogate_id('location', state).
with states as (
    select state from {{ ref('stg_synthea__patients') }} where state is not null
    union
    select organization_state from {{ ref('stg_synthea__organizations') }} where organization_state is not null
)

select
    cast({{ surrogate_id("'location'", 'state') }} as bigint) as location_id,
    cast(null as varchar(50)) as address_1,
    cast(null as varchar(50)) as address_2,
    cast(null as varchar(50)) as city,
    cast(case when length(state) <= 2 then upper(state) end as varchar(2)) as state,
    cast(null as varchar(9)) as zip,
    cast(null as varchar(20)) as county,
    cast(state as varchar(50)) as location_source_value,
    cast(null as integer) as country_concept_id,
    cast(null as varchar(80)) as country_source_value,
    cast(null as {{ type_cdm_float() }}) as latitude,
    cast(null as {{ type_cdm_float() }}) as longitude
from states
