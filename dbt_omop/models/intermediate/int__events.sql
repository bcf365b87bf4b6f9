-- All clinical source rows with their standard concept and the CDM table they land in.
--
-- Domain routing: a row lands in the table of its standard concept's domain
-- (Condition, Drug, Procedure, Measurement, Device, Observation; any other domain -> observation).
-- Unmapped codes (no concept or no valid 'Maps to') keep the row with concept_id 0 and
-- the source value, in the default table of their source file. Allergies never become
-- drug exposures: a drug allergy lands in observation with the drug as value_as_concept_id.
-- Rows of unknown patients are dropped; an encounter of another patient is not linked.
-- visit_occurrence_id is the collapsed visit of the row's encounter (int__encounter_visit),
-- visit_detail_id the encounter itself; provider_id the encounter's provider.
with mapped as (
    select
        sources.*,
        coalesce(mapping.source_concept_id, 0) as source_concept_id,
        coalesce(mapping.concept_id, 0) as mapped_concept_id,
        mapping.target_domain_id
    from {{ ref('int__event_sources') }} as sources
    left join {{ ref('int__source_to_standard') }} as mapping
        on mapping.source_code = sources.source_code
        and mapping.source_vocabulary_id = sources.source_vocabulary_id
    where sources.start_date is not null
),

routed as (
    select
        mapped.*,
        case
            when mapped.mapped_concept_id = 0 or mapped.target_domain_id is null
                then mapped.default_cdm_table
            when mapped.event_source = 'allergies'
                and mapped.target_domain_id not in ('Condition', 'Observation')
                then 'observation'
            when mapped.target_domain_id = 'Condition' then 'condition_occurrence'
            when mapped.target_domain_id = 'Drug' then 'drug_exposure'
            when mapped.target_domain_id = 'Procedure' then 'procedure_occurrence'
            when mapped.target_domain_id = 'Measurement' then 'measurement'
            when mapped.target_domain_id = 'Device' then 'device_exposure'
            else 'observation'
        end as cdm_table,
        case
            when mapped.event_source = 'allergies'
                and mapped.target_domain_id not in ('Condition', 'Observation')
                then 0
            else mapped.mapped_concept_id
        end as concept_id,
        case
            when mapped.event_source = 'allergies'
                and mapped.target_domain_id not in ('Condition', 'Observation')
                then mapped.mapped_concept_id
        end as value_as_concept_id
    from mapped
),

units as (
    select
        concept_id as unit_concept_id,
        concept_code as unit_code
    from {{ vocab_relation('concept') }}
    where vocabulary_id = 'UCUM'
        and standard_concept = 'S'
        and invalid_reason is null
),

-- person_id hashed once per patient (not once per event row).
persons as (
    select
        patient_id,
        {{ surrogate_id('patient_id') }} as person_id
    from {{ ref('stg_synthea__patients') }}
)

select
    {{ surrogate_id('routed.event_source', 'routed.extract_id', 'routed.source_line', 'routed.mapped_concept_id') }} as event_id,
    routed.cdm_table,
    routed.event_source,
    routed.extract_id,
    routed.source_line,
    persons.person_id,
    case when visits.person_id = persons.person_id then visits.visit_occurrence_id end as visit_occurrence_id,
    case when visits.person_id = persons.person_id then visits.visit_detail_id end as visit_detail_id,
    case when visits.person_id = persons.person_id then visits.provider_id end as provider_id,
    routed.concept_id,
    routed.mapped_concept_id,
    routed.source_code,
    routed.source_concept_id,
    routed.start_date,
    routed.start_datetime,
    case when routed.end_date >= routed.start_date then routed.end_date end as end_date,
    case when routed.end_datetime >= routed.start_datetime then routed.end_datetime end as end_datetime,
    routed.value_as_number,
    routed.value_as_string,
    routed.value_as_concept_id,
    routed.value_source_value,
    routed.unit_source_value,
    case
        when routed.unit_source_value is not null then coalesce(units.unit_concept_id, 0)
    end as unit_concept_id
from routed
-- encounter_id is unique in int__encounter_visit, so joining on it alone finds the same
-- row; it links only when the encounter belongs to the row's patient, compared on the
-- person ids (surrogate_id of the patient id on both sides): equality on two 64-hex keys in
-- the join would hash both for every event row, and carrying the encounter's patient id
-- through the join costs more than its bigint person id.
left join {{ ref('int__encounter_visit') }} as visits
    on visits.encounter_id = routed.encounter_id
inner join persons
    on persons.patient_id = routed.patient_id
left join units
    on units.unit_code = routed.unit_source_value
