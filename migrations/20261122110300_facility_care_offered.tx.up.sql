-- What a facility offers, as the search filters on it without looking up every candidate's
-- availability: the age bands it has groups of within the window ('krippe') and the care
-- scopes it has places for in a band ('krippe/45'). Derived with the availability, in the
-- same transaction, by availability.Refresh and Rebuild.
ALTER TABLE facility ADD COLUMN care_offered text[] NOT NULL DEFAULT '{}';
