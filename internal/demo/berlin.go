package demo

import (
	"fmt"
	"math"
)

// berlin is a synthetic city at Berlin's scale for measuring (tenants/bench/berlin.yaml):
// about 3,000 facilities and 170,000 children in care. Its postcodes are invented on a
// grid over the city's area — the search only needs points and names — and it is not one
// of the demo cities that `seed` writes by default.
var berlin = &profile{
	slug:      "berlin",
	spreadKm:  0.9,
	postcodes: berlinGrid(),
	anchors: []anchor{
		{district: "mitte", lat: 52.530, lon: 13.380},
		{district: "friedrichshain-kreuzberg", lat: 52.500, lon: 13.430},
		{district: "pankow", lat: 52.590, lon: 13.420},
		{district: "charlottenburg-wilmersdorf", lat: 52.500, lon: 13.290},
		{district: "spandau", lat: 52.540, lon: 13.190},
		{district: "steglitz-zehlendorf", lat: 52.430, lon: 13.240},
		{district: "tempelhof-schoeneberg", lat: 52.450, lon: 13.380},
		{district: "neukoelln", lat: 52.440, lon: 13.450},
		{district: "treptow-koepenick", lat: 52.440, lon: 13.580},
		{district: "marzahn-hellersdorf", lat: 52.540, lon: 13.580},
		{district: "lichtenberg", lat: 52.530, lon: 13.500},
		{district: "reinickendorf", lat: 52.600, lon: 13.300},
	},
	kitas: []facilityMix{
		{typ: typeKita, count: 2000, krippe: span{1, 2}, kiga: span{2, 4}},
		{typ: typeKrippe, count: 150, krippe: span{2, 4}},
		{typ: typeKindergarten, count: 250, kiga: span{2, 3}},
	},
	kitaPlaces:    180000,
	tagespflege:   600,
	grossShare:    0.2,
	openingGroups: 30,
	growingGroups: 60,
	providers: []providerSpec{
		{name: "Kindergärten City – Eigenbetrieb des Landes Berlin", kind: "municipal", style: styleMunicipal, weight: 6, website: true},
		{name: "AWO Kita-Verbund Berlin gGmbH", kind: "welfare", style: styleOrg, label: "AWO", weight: 4, website: true},
		{name: "DRK Kindertagesstätten Berlin gGmbH", kind: "welfare", style: styleOrg, label: "DRK", weight: 3},
		{name: "Diakonie Kitas Berlin gGmbH", kind: "welfare", style: styleOrg, label: "Diakonie", weight: 3},
		{name: "Caritas Kitas im Erzbistum Berlin gGmbH", kind: "welfare", style: styleOrg, label: "Caritas", weight: 2},
		{name: "Ev. Kirchenkreis Berlin Stadtmitte – Kitaverband", kind: "church", style: styleEv, weight: 3},
		{name: "Kath. Kita-Verbund Berlin", kind: "church", style: styleKath, weight: 1},
		{name: "Lebenshilfe Kinderhäuser Berlin gGmbH", kind: "welfare", style: styleInclusive, weight: 1},
		{name: "Kinderladen %s e.V.", kind: "parents_initiative", style: styleParents, weight: 6},
		{name: "Montessori-Kinderhäuser Berlin gGmbH", kind: "private", style: styleMontessori, weight: 1, website: true},
		{name: "Kinderwelten Berlin gGmbH", kind: "private", style: stylePrivate, weight: 2, website: true},
		{name: "Spree-Verkehrsbetriebe AG", kind: "company", style: styleCompany, weight: 1},
	},
}

// berlinGrid lays about 200 invented postcodes (10100, 10120, …) on a grid of about
// 1.9 km over an ellipse of Berlin's size, the inner city weighing more.
func berlinGrid() []postcode {
	const (
		centreLat, centreLon = 52.515, 13.40
		halfLat, halfLon     = 0.125, 0.26 // about 14 × 18 km
		stepLat, stepLon     = 0.0172, 0.0283
	)
	var out []postcode
	for lat := centreLat - halfLat; lat <= centreLat+halfLat; lat += stepLat {
		for lon := centreLon - halfLon; lon <= centreLon+halfLon; lon += stepLon {
			dy, dx := (lat-centreLat)/halfLat, (lon-centreLon)/halfLon
			r := math.Hypot(dx, dy)
			if r > 1 {
				continue
			}
			weight := 1
			if r < 0.6 {
				weight = 2
			}
			if r < 0.3 {
				weight = 3
			}
			out = append(out, postcode{
				plz: fmt.Sprintf("%05d", 10100+20*len(out)), municipality: "berlin", place: "Berlin", areaCode: "030",
				lat: round6(lat), lon: round6(lon), weight: weight,
			})
		}
	}
	return out
}
