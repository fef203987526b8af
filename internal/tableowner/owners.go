// Package tableowner says which package owns each table: only the owner has SQL on it;
// every other package calls the owner's functions, passing its transaction. The test
// beside this file reads every SQL string in the tree and fails on SQL outside the owner.
package tableowner

// Owners maps each table to the package (under internal/) that owns it.
var Owners = map[string]string{
	"tenant":               "tenant",
	"tenant_rules":         "tenant",
	"municipality":         "tenant",
	"district":             "tenant",
	"postcode":             "tenant",
	"street":               "tenant",
	"account":              "account",
	"account_token":        "account",
	"account_identity":     "account",
	"oidc_login":           "account",
	"account_favourite":    "favourite",
	"auth_session":         "auth",
	"operator_session":     "auth",
	"authz_policy_version": "authz",
	"casbin_rule":          "authz",
	"staff_role":           "authz",
	"recovery_code":        "staff",
	"operator":             "operator",
	"support_access":       "operator",
	"worker_heartbeat":     "operator",
	"audit_event":          "audit",
	"machine_credential":   "credential",
	"operator_audit_event": "audit",
	"billing_account":      "billing",
	"stripe_event":         "billing",
	"provider":             "provider",
	"facility":             "provider",
	"facility_group":       "provider",
	"group_capacity":       "provider",
	"facility_closure":     "provider",
	"facility_photo":       "provider",
	"availability":         "availability",
	"availability_state":   "availability",
	"family":               "family",
	"family_link":          "family",
	"guardian":             "family",
	"child":                "family",
	"child_file":           "childfile",
	"child_file_note":      "childfile",
	"child_file_access":    "childfile",
	"application":          "application",
	"application_choice":   "application",
	"application_consent":  "application",
	"application_event":    "application",
	"application_claim":    "application",
	"access_ticket":        "ticket",
	"child_duplicate":      "family",
	"import_job":           "casework",
	"offer":                "offer",
	"offer_event":          "offer",
	"contract":             "contract",
	"data_export":          "privacy",
	"retention_state":      "retention",
	"inbox_message":        "notify",
	"mail_delivery":        "notify",
	"outbox":               "platform/outbox",
	"allocation_round":     "allocation/round",
	"allocation_run":       "allocation/round",
	"allocation_result":    "allocation/round",
	"webhook_endpoint":     "webhook",
	"webhook_event":        "webhook",
	"webhook_delivery":     "webhook",
	"webhook_attempt":      "webhook",

	// The inbox's wordings in the city's other languages.
	"inbox_message_translation": "notify",
}

// Columns are single columns that a package other than the table's owner keeps: a
// value it derives and writes itself, with one UPDATE of that column alone.
var Columns = map[string]string{
	// What a facility offers, derived from its free places so the search can filter on it
	// without looking up every candidate's months.
	"facility.care_offered": "availability",
}

// Builders may write any table: they make data, they are no product path. The demo
// seeder fills whole cities in bulk; tests build their fixtures.
var Builders = []string{"demo"}

// Reads lists the few reads of other owners' tables that stay where they are, each for a
// reason that outweighs going through the owner. No package writes another's table, and
// the test fails for any read not listed here and for an entry no code needs any more.
var Reads = map[string][]string{
	// The session lookup of every request finds whose session it is (an active account,
	// or a running support access and its operator) in the same one statement.
	"auth": {"account", "support_access", "operator"},
	// The engine derives free places from groups and capacity and from everyone holding a
	// place (contracts, offers, the children's ages) in one pass over a whole city.
	"availability": {"facility", "facility_group", "group_capacity", "contract", "offer", "child"},
	// The search is one prepared statement over facilities, providers and availability:
	// the registration-day hot path.
	"search": {"facility", "provider", "availability"},
	// A round freezes a whole city's intake (requests, choices, children's ages, the
	// siblings' contracts, the seats) in a few statements of one consistent snapshot, its
	// pages name the requests of thousands of results at once, and a follow-up reads the
	// states of the round's own offers: per-row calls through the owners would take
	// minutes for Berlin (issue 12 measures ≤ 10 s end to end).
	"allocation/round": {"application", "application_choice", "child", "contract", "availability", "offer"},
}
