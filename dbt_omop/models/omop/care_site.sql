-- OMOP CDM v5.4 CARE_SITE: one row per organization; care_site_source_value = organization id.
select
    cast({{ surrogate_id('organization_id') }} as bigint) as care_site_id,
    cast(organization_name as varchar(255)) as care_site_name,
    cast(null as integer) as place_of_service_concept_id,
    cast(
        case
            when organization_state is not null then {{ surrogate_id("'location'", 'organization_state') }}
        end as bigint
    ) as location_id,
    cast(organization_id as varchar(50)) as care_site_source_value,
    cast(null as varchar(50)) as place_of_service_source_value
from {{ ref('stg_synthea__organizations') }}
