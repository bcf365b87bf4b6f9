-- OMOP CDM v5.4 DRUG_ERA (standard OHDSI algorithm). Exposure end: the recorded end date,
-- else start + 1 day. Exposures of a person and drug are first merged where they overlap
-- (sub-exposures), then sub-exposures starting within var('drug_era_gap_days') (30) days of
-- the latest end so far form one era (both steps: macro era_collapse). gap_days = era
-- length - days covered by exposures.
-- Drug: with the Athena vocabulary (var vocabulary = 'athena') the RxNorm ingredient via
-- concept_ancestor, as the standard algorithm requires. The demo vocabulary has no
-- concept_ancestor, so eras are built per drug_concept_id (clinical drug) instead.
-- Concept 0 is excluded. Id: surrogate_id('drug_era', person, drug concept, era start).
{%- set by_ingredient = has_vocab_relation('concept_ancestor') %}
with exposures as (
    select
        exposure.person_id,
        {{ 'ingredient.concept_id' if by_ingredient else 'exposure.drug_concept_id' }} as drug_concept_id,
        exposure.drug_exposure_id,
        cast(exposure.drug_exposure_start_date as timestamp) as start_date,
        cast(
            coalesce(
                exposure.verbatim_end_date,
                {{ dbt.dateadd('day', 1, 'exposure.drug_exposure_start_date') }}
            ) as timestamp
        ) as end_date
    from {{ ref('drug_exposure') }} as exposure
    {%- if by_ingredient %}
    inner join {{ vocab_relation('concept_ancestor') }} as ancestor
        on ancestor.descendant_concept_id = exposure.drug_concept_id
    inner join {{ vocab_relation('concept') }} as ingredient
        on ingredient.concept_id = ancestor.ancestor_concept_id
        and ingredient.vocabulary_id in ('RxNorm', 'RxNorm Extension')
        and ingredient.concept_class_id = 'Ingredient'
        and ingredient.invalid_reason is null
    {%- endif %}
    where exposure.drug_concept_id <> 0
),

sub_exposures as (
    {{ era_collapse('exposures', ['person_id', 'drug_concept_id'], tiebreak='drug_exposure_id', gap_days=0,
                    aggregates={'exposure_count': 'count(*)'}, label='sub') }}
),

eras as (
    {{ era_collapse('sub_exposures', ['person_id', 'drug_concept_id'], tiebreak='sub_number',
                    gap_days=var('drug_era_gap_days'), start_date='sub_start_date', end_date='sub_end_date',
                    aggregates={'exposure_count': 'sum(exposure_count)',
                                'exposed_days': 'sum(' ~ dbt.datediff('sub_start_date', 'sub_end_date', 'day') ~ ')'}) }}
)

select
    cast({{ surrogate_id("'drug_era'", 'person_id', 'drug_concept_id', 'era_start_date') }} as bigint) as drug_era_id,
    cast(person_id as bigint) as person_id,
    cast(drug_concept_id as integer) as drug_concept_id,
    cast(era_start_date as timestamp) as drug_era_start_date,
    cast(era_end_date as timestamp) as drug_era_end_date,
    cast(exposure_count as integer) as drug_exposure_count,
    cast({{ dbt.datediff('era_start_date', 'era_end_date', 'day') }} - exposed_days as integer) as gap_days  -- noqa: LT05
from eras
