package retention

import (
	"fmt"

	"kitaportal/internal/tenant"
)

// Records of processing activities (DSGVO Art. 30(1)), generated from the city's
// configuration: the controller and its contact from the branding, the retention periods
// from the rules, the rest from what the product does. The city's data-protection
// officer reviews and completes it; nothing here is stored.

// Records is a city's record of processing activities.
type Records struct {
	Controller string // the city
	Contact    string // its contact for the portal
	Activities []Activity
}

// Activity is one processing activity: why, whose data, which, to whom, how long.
type Activity struct {
	Key        string
	Purpose    string
	Legal      string
	Subjects   string
	Categories string
	Recipients string
	Retention  string
}

// RecordsFor writes the record of city t in lang (de or en; others fall back to German).
func RecordsFor(t *tenant.Tenant, lang string) Records {
	en := lang == "en"
	r := t.Rules
	pick := func(de, eng string) string {
		if en {
			return eng
		}
		return de
	}
	months := func(n int) string {
		if n == 0 {
			return pick("nicht festgelegt (wird nicht automatisch gelöscht)", "not set (not deleted automatically)")
		}
		return fmt.Sprintf(pick("%d Monate nach dem gewünschten Betreuungsbeginn", "%d months after the desired start of care"), n)
	}
	days := func(n int, de, eng string) string {
		if n == 0 {
			return pick("nicht festgelegt (wird nicht automatisch gelöscht)", "not set (not deleted automatically)")
		}
		return fmt.Sprintf(pick("%d Tage "+de, "%d days "+eng), n)
	}
	p := r.Retention
	contact := r.Branding.ContactName
	if r.Branding.ContactEmail != "" {
		contact += " <" + r.Branding.ContactEmail + ">"
	}
	return Records{
		Controller: r.Name,
		Contact:    contact,
		Activities: []Activity{
			{
				Key:        "requests",
				Purpose:    pick("Vormerkung und Vergabe von Betreuungsplätzen (Kita, Kindertagespflege)", "Pre-registration and allocation of childcare places (Kita, childminders)"),
				Legal:      pick("Art. 6 Abs. 1 lit. e DSGVO i. V. m. § 24 SGB VIII und Landesrecht", "Art. 6(1)(e) GDPR with § 24 SGB VIII and Land law"),
				Subjects:   pick("Kinder, Sorgeberechtigte", "Children, guardians"),
				Categories: pick("Name, Geburtsdatum, Anschrift, Kontaktdaten, Betreuungswunsch (Beginn, Umfang, Einrichtungen), Vergabekriterien", "Name, date of birth, address, contact data, requested care (start, hours, facilities), allocation criteria"),
				Recipients: pick("Jugendamt/Familienbüro der Stadt; die gewählten Einrichtungen und ihre Träger; Fachberatung Kindertagespflege", "The city's youth welfare office; the chosen facilities and their providers; childminder counselling"),
				Retention:  pick("Anfragen ohne Platz: ", "Requests without a place: ") + months(p.UnplacedRequestMonths),
			},
			{
				Key:        "offers",
				Purpose:    pick("Platzangebote, Zusagen und Betreuungsverträge", "Place offers, acceptances and care contracts"),
				Legal:      pick("Art. 6 Abs. 1 lit. b und e DSGVO", "Art. 6(1)(b) and (e) GDPR"),
				Subjects:   pick("Kinder, Sorgeberechtigte", "Children, guardians"),
				Categories: pick("Angebot, Antwort, Vertrag, Betreuungsumfang, Elternbeitrag", "Offer, answer, contract, hours of care, parental fee"),
				Recipients: pick("Einrichtung und Träger des Platzes; Jugendamt", "The place's facility and provider; youth welfare office"),
				Retention: pick("Abgelaufene oder abgelehnte Angebote mit ihrer Anfrage; Verträge nach den Aufbewahrungspflichten der Stadt",
					"Expired or declined offers together with their request; contracts as the city's record-keeping duties require"),
			},
			{
				Key:        "messages",
				Purpose:    pick("Benachrichtigungen an Familien (Posteingang und E-Mail)", "Notifications to families (inbox and e-mail)"),
				Legal:      pick("Art. 6 Abs. 1 lit. e DSGVO", "Art. 6(1)(e) GDPR"),
				Subjects:   pick("Sorgeberechtigte", "Guardians"),
				Categories: pick("E-Mail-Adresse, Inhalt der Nachricht, Versandzeitpunkt", "E-mail address, message content, time sent"),
				Recipients: pick("E-Mail-Versanddienstleister (Auftragsverarbeiter)", "E-mail delivery provider (processor)"),
				Retention:  days(p.MailDays, "nach Erstellung bzw. Versand", "after creation or sending"),
			},
			{
				Key:        "accounts",
				Purpose:    pick("Benutzerkonten und Anmeldung (Familien, Mitarbeitende)", "User accounts and sign-in (families, staff)"),
				Legal:      pick("Art. 6 Abs. 1 lit. b, c und e DSGVO; Art. 32 DSGVO", "Art. 6(1)(b), (c) and (e) GDPR; Art. 32 GDPR"),
				Subjects:   pick("Sorgeberechtigte, Mitarbeitende der Stadt und der Einrichtungen", "Guardians, staff of the city and of facilities"),
				Categories: pick("E-Mail-Adresse, Name, Sitzungen (Zeitpunkte, keine Inhalte), zweiter Faktor", "E-mail address, name, sessions (times, no content), second factor"),
				Recipients: pick("Keine; Betrieb durch den Anbieter der Software (Auftragsverarbeiter)", "None; operated by the software's vendor (processor)"),
				Retention:  pick("Beendete Sitzungen: ", "Ended sessions: ") + days(p.SessionDays, "nach ihrem Ende", "after they ended"),
			},
			{
				Key:        "audit",
				Purpose:    pick("Protokoll der Zugriffe auf Daten von Kindern und Familien", "Log of access to children's and families' data"),
				Legal:      pick("Art. 5 Abs. 2 und Art. 32 DSGVO", "Art. 5(2) and Art. 32 GDPR"),
				Subjects:   pick("Mitarbeitende, Kinder, Sorgeberechtigte", "Staff, children, guardians"),
				Categories: pick("Wer, wann, welcher Vorgang, welches Kind (keine Gesundheitsdaten)", "Who, when, which action, which child (no health data)"),
				Recipients: pick("Administration der Stadt; Datenschutzbeauftragte", "The city's administration; data-protection officer"),
				Retention:  pick("Nicht veränderbar; Löschläufe werden nur mit Anzahlen protokolliert", "Append-only; retention runs are logged with counts only"),
			},
		},
	}
}
