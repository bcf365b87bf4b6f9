-- OMOP CDM v5.4 PAYER_PLAN_PERIOD: one row per insurance period of a known person
-- (payer_transitions; re-deliveries deduplicated in staging). payer_source_value = payer id;
-- payer/plan concepts are not mapped (0). A missing or earlier end date ends the period on
-- its start date. Id: surrogate_id('payer_plan_period', patient, start date, payer).
select
    cast(
        {{ surrogate_id("'payer_plan_period'", 'transitions.patient_id', 'transitions.payer_start_date', 'transitions.payer_id') }} as bigint  -- noqa: LT05
    ) as payer_plan_period_id,
    cast(patients.person_id as bigint) as person_id,
    cast(transitions.payer_start_date as date) as payer_plan_period_start_date,
    cast(
        case
            when transitions.payer_end_date >= transitions.payer_start_date then transitions.payer_end_date
            else transitions.payer_start_date
        end as date
    ) as payer_plan_period_end_date,
    cast(0 as integer) as payer_concept_id,
    cast(transitions.payer_id as varchar(50)) as payer_source_value,
    cast(0 as integer) as payer_source_concept_id,
    cast(0 as integer) as plan_concept_id,
    cast(null as varchar(50)) as plan_source_value,
    cast(0 as integer) as plan_source_concept_id,
    cast(0 as integer) as sponsor_concept_id,
    cast(transitions.plan_ownership as varchar(50)) as sponsor_source_value,
    cast(0 as integer) as sponsor_source_concept_id,
    cast(null as varchar(50)) as family_source_value,
    cast(null as integer) as stop_reason_concept_id,
    cast(null as varchar(50)) as stop_reason_source_value,
    cast(null as integer) as stop_reason_source_concept_id
from {{ ref('stg_synthea__payer_transitions') }} as transitions
-- the patients of staging are exactly the CDM persons (person is built from them, one row each)
inner join {{ ref('stg_synthea__patients') }} as patients
    on transitions.patient_id = patients.patient_id
