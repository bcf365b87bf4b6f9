-- Source code + source vocabulary -> source concept and standard concept(s) via 'Maps to'.
-- One row per (source_code, source_vocabulary_id) seen in the data, or several when a
-- source concept maps to several standard concepts. Unknown codes and codes without a
-- valid 'Maps to' get concept_id 0 and a null target_domain_id.
with source_codes as (
    select distinct
        source_code,
        source_vocabulary_id
    from {{ ref('int__event_sources') }}
    where source_code is not null
),

source_concepts as (
    select
        concept_id,
        concept_code,
        vocabulary_id,
        domain_id,
        row_number() over (
            partition by vocabulary_id, concept_code
            order by (case when invalid_reason is null then 0 else 1 end), concept_id
        ) as code_rank
    from {{ vocab_relation('concept') }}
),

maps_to as (
    select
        relationship.concept_id_1 as source_concept_id,
        standard.concept_id,
        standard.domain_id,
        standard.vocabulary_id
    from {{ vocab_relation('concept_relationship') }} as relationship
    inner join {{ vocab_relation('concept') }} as standard
        on relationship.concept_id_2 = standard.concept_id
    where
        relationship.relationship_id = 'Maps to'
        and relationship.invalid_reason is null
        and standard.standard_concept = 'S'
        and standard.invalid_reason is null
)

select
    source_codes.source_code,
    source_codes.source_vocabulary_id,
    coalesce(source_concepts.concept_id, 0) as source_concept_id,
    source_concepts.domain_id as source_domain_id,
    coalesce(maps_to.concept_id, 0) as concept_id,
    maps_to.domain_id as target_domain_id,
    maps_to.vocabulary_id as target_vocabulary_id
from source_codes
left join source_concepts
    on
        source_codes.source_vocabulary_id = source_concepts.vocabulary_id
        and source_codes.source_code = source_concepts.concept_code
        and source_concepts.code_rank = 1
left join maps_to
    on source_concepts.concept_id = maps_to.source_concept_id
