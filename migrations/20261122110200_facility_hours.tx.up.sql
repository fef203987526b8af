-- Opening hours the search filters on, derived once when a facility is written instead of
-- reading the JSON of every candidate on every search: the latest opening and the
-- earliest closing from Monday to Friday ('24:00' / '00:00' when closed on one of them,
-- so such a facility never counts as open early or late).
ALTER TABLE facility
    ADD COLUMN opens_latest text GENERATED ALWAYS AS (greatest(
        coalesce(opening_hours -> 'mon' -> 0 ->> 0, '24:00'),
        coalesce(opening_hours -> 'tue' -> 0 ->> 0, '24:00'),
        coalesce(opening_hours -> 'wed' -> 0 ->> 0, '24:00'),
        coalesce(opening_hours -> 'thu' -> 0 ->> 0, '24:00'),
        coalesce(opening_hours -> 'fri' -> 0 ->> 0, '24:00'))) STORED,
    ADD COLUMN closes_earliest text GENERATED ALWAYS AS (least(
        coalesce(opening_hours -> 'mon' -> -1 ->> 1, '00:00'),
        coalesce(opening_hours -> 'tue' -> -1 ->> 1, '00:00'),
        coalesce(opening_hours -> 'wed' -> -1 ->> 1, '00:00'),
        coalesce(opening_hours -> 'thu' -> -1 ->> 1, '00:00'),
        coalesce(opening_hours -> 'fri' -> -1 ->> 1, '00:00'))) STORED;
