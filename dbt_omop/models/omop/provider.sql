-- OMOP CDM v5.4 PROVIDER: one row per provider (names are never loaded: provider_name is null).
select
    cast({{ surrogate_id('providers.provider_id') }} as bigint) as provider_id,
    cast(null as varchar(255)) as provider_name,
    cast(null as varchar(20)) as npi,
    cast(null as varchar(20)) as dea,
    cast(null as integer) as specialty_concept_id,
    cast(
        case
            when organizations.organization_id is not null
                then {{ surrogate_id('organizations.organization_id') }}
        end as bigint
    ) as care_site_id,
    cast(null as integer) as year_of_birth,
    cast(coalesce(gender.target_concept_id, 0) as integer) as gender_concept_id,
    cast(providers.provider_id as varchar(50)) as provider_source_value,
    cast(providers.provider_specialty as varchar(50)) as specialty_source_value,
    cast(0 as integer) as specialty_source_concept_id,
    cast(providers.provider_gender as varchar(50)) as gender_source_value,
    cast(0 as integer) as gender_source_concept_id
from {{ ref('stg_synthea__providers') }} as providers
left join {{ ref('stg_synthea__organizations') }} as organizations
    on providers.organization_id = organizations.organization_id
left join {{ ref('source_to_concept_map') }} as gender
    on
        gender.source_vocabulary_id = 'SYNTHEA_GENDER'
        and providers.provider_gender = gender.source_code
        and gender.invalid_reason is null
