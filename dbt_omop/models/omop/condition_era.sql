-- OMOP CDM v5.4 CONDITION_ERA (standard OHDSI algorithm): condition occurrences of a
-- person with the same standard concept (concept 0 excluded) are merged while the next
-- one starts within var('condition_era_gap_days') (30) days of the latest end so far
-- (macro era_collapse). A missing end date counts as start + 1 day. Era end: the latest
-- end of its occurrences.
-- Id: surrogate_id('condition_era', person, concept, era start).
with occurrences as (
    select
        person_id,
        condition_concept_id,
        condition_occurrence_id,
        cast(condition_start_date as timestamp) as start_date,
        cast(coalesce(condition_end_date, {{ dbt.dateadd('day', 1, 'condition_start_date') }}) as timestamp) as end_date
    from {{ ref('condition_occurrence') }}
    where condition_concept_id <> 0
),

eras as (
    {{ era_collapse('occurrences', ['person_id', 'condition_concept_id'], tiebreak='condition_occurrence_id',
                    gap_days=var('condition_era_gap_days'), aggregates={'occurrence_count': 'count(*)'}) }}
)

select
    cast(
        {{ surrogate_id("'condition_era'", 'person_id', 'condition_concept_id', 'era_start_date') }} as bigint
    ) as condition_era_id,
    cast(person_id as bigint) as person_id,
    cast(condition_concept_id as integer) as condition_concept_id,
    cast(era_start_date as timestamp) as condition_era_start_date,
    cast(era_end_date as timestamp) as condition_era_end_date,
    cast(occurrence_count as integer) as condition_occurrence_count
from eras
