-- The visit spine: one row per collapsed visit (see int__encounter_visit for the rules).
-- Start/end: first start and last end of its encounters. Care site, provider and source
-- value: those of its anchor encounter (the first inpatient encounter of a stay, else the
-- first encounter).
with spans as (
    select
        visit_occurrence_id,
        min(encounter_start_datetime) as visit_start_datetime,
        max(encounter_end_datetime) as visit_end_datetime,
        count(*) as encounter_count
    from {{ ref('int__encounter_visit') }}
    group by visit_occurrence_id
)

select
    anchors.visit_occurrence_id,
    anchors.anchor_encounter_id as encounter_id,
    anchors.person_id,
    anchors.patient_id,
    anchors.visit_concept_id,
    cast(spans.visit_start_datetime as date) as visit_start_date,
    spans.visit_start_datetime,
    cast(spans.visit_end_datetime as date) as visit_end_date,
    spans.visit_end_datetime,
    anchors.encounter_class as visit_source_value,
    anchors.organization_id,
    anchors.care_site_id,
    anchors.provider_id,
    spans.encounter_count,
    anchors.extract_id,
    anchors.source_line
from {{ ref('int__encounter_visit') }} as anchors
inner join spans
    on spans.visit_occurrence_id = anchors.visit_occurrence_id
where anchors.is_visit_anchor
