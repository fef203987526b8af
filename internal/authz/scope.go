package authz

import (
	"strings"

	"kitaportal/internal/auth"
)

// FacilityScope returns an SQL condition on the facility table under alias that holds
// for exactly the facilities the principal's roles reach, with its arguments:
//
//	tenant_admin, case_worker     every facility of the tenant
//	provider_admin                the facilities of their provider
//	facility_lead, facility_staff their facility
//	tagespflege_counsellor        the Kindertagespflege of their district
//
// The condition reads staff_role, so a revoked role stops access at once. A support
// session (an operator inside the tenant for a limited time) reaches every facility; its
// actions are limited by the catalogue. So does a machine credential (the city's own
// back-office software), limited by its scopes. Anyone else reaches none.
func FacilityScope(p *auth.Principal, alias string) (string, []any) {
	switch {
	case p == nil:
		return "false", nil
	case p.Kind == auth.KindSupport, p.Kind == auth.KindMachine:
		return "true", nil
	case p.Kind != auth.KindStaff || !p.MFADone:
		return "false", nil
	}
	cond := strings.NewReplacer("f.", alias+".").Replace(`EXISTS (SELECT 1 FROM staff_role r
		WHERE r.tenant_id = f.tenant_id AND r.account_id = ? AND (
		     r.role IN ('tenant_admin', 'case_worker')
		  OR (r.role = 'provider_admin' AND r.provider_id = f.provider_id)
		  OR (r.role IN ('facility_lead', 'facility_staff') AND r.facility_id = f.id)
		  OR (r.role = 'tagespflege_counsellor' AND r.district_key = f.district_key
		      AND f.type IN ('tagespflege', 'grosstagespflege'))))`)
	return cond, []any{p.ID}
}
