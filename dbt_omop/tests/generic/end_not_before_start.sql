{#- Fails for rows whose end (this column) lies before their start (start_column). -#}
{% test end_not_before_start(model, column_name, start_column) %}
select *
from {{ model }}
where {{ column_name }} is not null
    and {{ start_column }} is not null
    and {{ column_name }} < {{ start_column }}
{% endtest %}
