-- OMOP CDM v5.4 LOCATION: one row per distinct state of patients and organizations (no
-- finer address is ever loaded). `state` is the 2-letter USPS code: a value of at most 2
-- characters is kept (upper case), a full name (Synthea writes e.g. 'Massachusetts') is
-- looked up case-insensitively in the state_abbreviation seed; anything else is null.
-- location_source_value keeps the state as delivered.
-- Id: surrogate_id('location', state as delivered), the key person.location_id uses.
with states as (
    select state from {{ ref('stg_synthea__patients') }}
    where state is not null
    union
    select organization_state from {{ ref('stg_synthea__organizations') }}
    where organization_state is not null
),

abbreviations as (
    select
        lower(trim(state_name)) as state_key,
        upper(trim(state_code)) as state_code
    from {{ ref('state_abbreviation') }}
)

select
    cast({{ surrogate_id("'location'", 'states.state') }} as bigint) as location_id,
    cast(null as varchar(50)) as address_1,
    cast(null as varchar(50)) as address_2,
    cast(null as varchar(50)) as city,
    cast(
        case
            when length(trim(states.state)) <= 2 then upper(trim(states.state))
            else abbreviations.state_code
        end as varchar(2)
    ) as state,
    cast(null as varchar(9)) as zip,
    cast(null as varchar(20)) as county,
    cast(states.state as varchar(50)) as location_source_value,
    cast(null as integer) as country_concept_id,
    cast(null as varchar(80)) as country_source_value,
    cast(null as {{ type_cdm_float() }}) as latitude,
    cast(null as {{ type_cdm_float() }}) as longitude
from states
left join abbreviations
    on abbreviations.state_key = lower(trim(states.state))
