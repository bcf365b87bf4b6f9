-- Insurance periods. The same period (patient, start, payer) re-delivered by several
-- extracts is kept once: the delivery of the most recently loaded extract wins (ties:
-- extract_id, then the later line of the file).
with ranked as (
    select
        transitions.*,
        row_number() over (
            partition by transitions.patient, transitions.start_date, transitions.payer
            order by
                manifest.loaded_at desc nulls last,
                {{ binary_collation("transitions.extract_id") }} desc,
                transitions.source_line desc
        ) as extract_rank
    from {{ source('raw', 'payer_transitions') }} as transitions
    left join {{ source('raw', 'extract_manifest') }} as manifest
        on transitions.extract_id = manifest.extract_id
    where
        transitions.patient is not null
        and transitions.start_date is not null
)

select
    patient as patient_id,
    start_date as payer_start_date,
    end_date as payer_end_date,
    nullif(trim(payer), '') as payer_id,
    nullif(trim(secondary_payer), '') as secondary_payer_id,
    nullif(trim(plan_ownership), '') as plan_ownership,
    extract_id,
    source_line
from ranked
where extract_rank = 1
