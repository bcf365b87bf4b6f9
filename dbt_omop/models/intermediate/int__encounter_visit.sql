-- Encounter -> collapsed visit (OHDSI ETL-Synthea visit logic). One row per (deduplicated)
-- encounter of a known patient, with the visit_occurrence_id of the visit it belongs to.
--
-- 1. Inpatient stays: inpatient encounters of a person collapse while the next one starts
--    no later than one day after the latest end so far (dates); a stay spans the first
--    start to the last end.
-- 2. Outpatient (outpatient, ambulatory, wellness) and ER (emergency, urgentcare)
--    encounters starting on a day inside a stay are absorbed into it. An ER encounter
--    starting on the stay's first day (ER then admission) makes it 262 "Emergency Room and
--    Inpatient Visit"; otherwise the stay is 9201.
-- 3. Remaining ER encounters of a person starting on the same day collapse into one 9203.
-- 4. Every other encounter is its own visit (9202 Outpatient).
-- A collapsed visit's id is surrogate_id(its first encounter by start, then encounter id);
-- its span (first start, last end of its encounters) and encounter count are on every row.
-- Every window orders on (start, encounter id), so ids never depend on row order.
--
-- Two ends per encounter. end_datetime (-> encounter_end_datetime) is repaired for the visit
-- logic: a STOP missing or earlier than START is taken as START, so a contradictory STOP
-- can neither extend nor shrink a collapsed stay, and visit_occurrence always ends on or
-- after its start (length of stay and the readmission label rely on that).
-- recorded_end_datetime is the STOP as delivered (START only when STOP is missing, as
-- ETL-Synthea does; CDM end dates are required). visit_detail, one row per encounter, keeps
-- it, so an end before its start is not silently repaired away but counted by DQD's
-- plausibleStartBeforeEnd on visit_detail (fatal in the project's catalogue).
-- person_id comes from staging (hashed once per patient, not once per encounter); the
-- windows partition by it (a bigint) rather than by the 64-hex patient pseudonym, which this
-- table does not keep (person.person_source_value has it).
with encounters as (
    select
        encounters.encounter_id,
        persons.person_id,
        encounters.encounter_class,
        encounters.encounter_start_datetime as start_datetime,
        case
            when
                encounters.encounter_stop_datetime is null
                or encounters.encounter_stop_datetime < encounters.encounter_start_datetime
                then encounters.encounter_start_datetime
            else encounters.encounter_stop_datetime
        end as end_datetime,
        coalesce(encounters.encounter_stop_datetime, encounters.encounter_start_datetime) as recorded_end_datetime,
        cast(encounters.encounter_start_datetime as date) as start_date,
        case
            when encounters.encounter_class = 'inpatient' then 'inpatient'
            when encounters.encounter_class in ('emergency', 'urgentcare') then 'emergency'
            when encounters.encounter_class in ('outpatient', 'ambulatory', 'wellness') then 'outpatient'
            else 'other'
        end as visit_group,
        encounters.organization_id,
        encounters.provider_id,
        encounters.extract_id,
        encounters.source_line
    from {{ ref('stg_synthea__encounters') }} as encounters
    inner join {{ ref('stg_synthea__patients') }} as persons
        on encounters.patient_id = persons.patient_id
    where encounters.encounter_start_datetime is not null
),

inpatient as (
    select
        encounter_id,
        person_id,
        start_date,
        cast(end_datetime as date) as end_date,
        start_datetime
    from encounters
    where visit_group = 'inpatient'
),

inpatient_flagged as (
    select
        inpatient.*,
        case
            when
                inpatient.start_date
                <= {{ dbt.dateadd('day', 1, 'max(inpatient.end_date) over (partition by inpatient.person_id order by inpatient.start_datetime, ' ~ binary_collation('inpatient.encounter_id') ~ ' rows between unbounded preceding and 1 preceding)') }}  -- noqa: LT05
                then 0
            else 1
        end as starts_new_stay
    from inpatient
),

inpatient_stays as (
    select
        inpatient_flagged.*,
        sum(starts_new_stay) over (
            partition by person_id
            order by start_datetime, {{ binary_collation("encounter_id") }}
            rows between unbounded preceding and current row
        ) as stay_number
    from inpatient_flagged
),

stays as (
    select
        person_id,
        stay_number,
        min(start_date) as stay_start_date,
        max(end_date) as stay_end_date
    from inpatient_stays
    group by person_id, stay_number
),

absorbed as (
    select
        encounters.encounter_id,
        stays.stay_number,
        encounters.visit_group = 'emergency' and encounters.start_date = stays.stay_start_date as is_er_admission
    from encounters
    inner join stays
        on
            encounters.person_id = stays.person_id
            and encounters.start_date between stays.stay_start_date and stays.stay_end_date
    where encounters.visit_group in ('outpatient', 'emergency')
),

membership as (
    select
        encounters.*,
        case
            when encounters.visit_group = 'inpatient'
                then 'stay|' || cast(inpatient_stays.stay_number as varchar)
            when absorbed.encounter_id is not null
                then 'stay|' || cast(absorbed.stay_number as varchar)
            when encounters.visit_group = 'emergency'
                then 'er|' || cast(encounters.start_date as varchar)
            else 'encounter|' || encounters.encounter_id
        end as visit_key,
        coalesce(absorbed.is_er_admission, false) as is_er_admission,
        -- The encounter that gives the visit its care site, provider and source value.
        case
            when encounters.visit_group = 'inpatient' or absorbed.encounter_id is null then 0
            else 1
        end as anchor_rank
    from encounters
    left join inpatient_stays
        on encounters.encounter_id = inpatient_stays.encounter_id
    left join absorbed
        on encounters.encounter_id = absorbed.encounter_id
),

-- Only stays and same-day ER groups have several encounters: the windows run on those rows
-- alone. Every other encounter is a visit of its own (first and anchor encounter: itself).
grouped_visits as (
    select
        membership.*,
        first_value(encounter_id) over (
            partition by person_id, visit_key
            order by start_datetime, {{ binary_collation("encounter_id") }}
        ) as first_encounter_id,
        first_value(encounter_id) over (
            partition by person_id, visit_key
            order by anchor_rank, start_datetime, {{ binary_collation("encounter_id") }}
        ) as anchor_encounter_id,
        max(case when is_er_admission then 1 else 0 end) over (
            partition by person_id, visit_key
        ) as has_er_admission,
        min(start_datetime) over (partition by person_id, visit_key) as visit_start_datetime,
        max(end_datetime) over (partition by person_id, visit_key) as visit_end_datetime,
        count(*) over (partition by person_id, visit_key) as encounter_count
    from membership
    where visit_key not like 'encounter|%'
),

visits as (
    select * from grouped_visits
    union all
    select
        membership.*,
        membership.encounter_id as first_encounter_id,
        membership.encounter_id as anchor_encounter_id,
        0 as has_er_admission,
        membership.start_datetime as visit_start_datetime,
        membership.end_datetime as visit_end_datetime,
        1 as encounter_count
    from membership
    where membership.visit_key like 'encounter|%'
),

-- Ids of care sites and providers hashed once each, not once per encounter.
organizations as (
    select
        organization_id,
        {{ surrogate_id('organization_id') }} as care_site_id
    from {{ ref('stg_synthea__organizations') }}
),

providers as (
    select
        provider_id,
        {{ surrogate_id('provider_id') }} as provider_id_hash
    from {{ ref('stg_synthea__providers') }}
)

select
    {{ surrogate_id('visits.first_encounter_id') }} as visit_occurrence_id,
    {{ surrogate_id("'visit_detail'", 'visits.encounter_id') }} as visit_detail_id,
    visits.encounter_id,
    visits.encounter_id = visits.anchor_encounter_id as is_visit_anchor,
    visits.person_id,
    case
        when visits.visit_key like 'stay|%' and visits.has_er_admission = 1 then 262
        when visits.visit_key like 'stay|%' then 9201
        when visits.visit_key like 'er|%' then 9203
        else 9202
    end as visit_concept_id,
    case
        when visits.visit_group = 'inpatient' then 9201
        when visits.visit_group = 'emergency' then 9203
        else 9202
    end as visit_detail_concept_id,
    visits.start_datetime as encounter_start_datetime,
    visits.end_datetime as encounter_end_datetime,
    visits.recorded_end_datetime as encounter_recorded_end_datetime,
    visits.visit_start_datetime,
    visits.visit_end_datetime,
    visits.encounter_count,
    visits.encounter_class,
    organizations.organization_id,
    organizations.care_site_id,
    providers.provider_id_hash as provider_id,
    visits.extract_id,
    visits.source_line
from visits
left join organizations
    on visits.organization_id = organizations.organization_id
left join providers
    on visits.provider_id = providers.provider_id
