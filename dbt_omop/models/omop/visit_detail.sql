-- OMOP CDM v5.4 VISIT_DETAIL: one row per original encounter; visit_occurrence_id is the
-- collapsed visit it belongs to (int__encounter_visit). visit_detail_concept_id is the
-- encounter's own class: inpatient 9201, emergency/urgentcare 9203, otherwise 9202.
-- preceding_visit_detail_id: the person's previous encounter by start (ties by id).
-- The end is the encounter's STOP as delivered (its START only when STOP is missing): a STOP
-- before START is kept, not repaired, so DQD's plausibleStartBeforeEnd on visit_detail
-- counts it (the collapsed visit_occurrence uses the repaired end, see int__encounter_visit).
select
    cast(visit_detail_id as bigint) as visit_detail_id,
    cast(person_id as bigint) as person_id,
    cast(visit_detail_concept_id as integer) as visit_detail_concept_id,
    cast(encounter_start_datetime as date) as visit_detail_start_date,
    cast(encounter_start_datetime as timestamp) as visit_detail_start_datetime,
    cast(encounter_recorded_end_datetime as date) as visit_detail_end_date,
    cast(encounter_recorded_end_datetime as timestamp) as visit_detail_end_datetime,
    cast({{ var('ehr_type_concept_id') }} as integer) as visit_detail_type_concept_id,
    cast(provider_id as bigint) as provider_id,
    cast(care_site_id as bigint) as care_site_id,
    cast(encounter_class as varchar(50)) as visit_detail_source_value,
    cast(0 as integer) as visit_detail_source_concept_id,
    cast(null as integer) as admitted_from_concept_id,
    cast(null as varchar(50)) as admitted_from_source_value,
    cast(null as varchar(50)) as discharged_to_source_value,
    cast(null as integer) as discharged_to_concept_id,
    cast(
        lag(visit_detail_id) over (
            partition by person_id
            order by encounter_start_datetime, {{ binary_collation("encounter_id") }}
        ) as bigint
    ) as preceding_visit_detail_id,
    cast(null as bigint) as parent_visit_detail_id,
    cast(visit_occurrence_id as bigint) as visit_occurrence_id
from {{ ref('int__encounter_visit') }}
