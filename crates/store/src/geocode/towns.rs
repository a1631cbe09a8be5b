//! The hand-written table of UK postcode areas and their post towns, so a search for
//! "Bath" or "stoke" lands somewhere sensible without a full gazetteer.
//!
//! Owns the table and the name matching only. Each town resolves to the centroid of one
//! named postcode district (usually district 1, or the one at the town centre where
//! district 1 is elsewhere: TN9 Tonbridge, KW15 Kirkwall, LL30 Llandudno, TF3 Telford).

/// `(postcode area, post town as shown, the district whose centroid stands for it)`.
pub(super) const TOWNS: &[(&str, &str, &str)] = &[
    ("AB", "Aberdeen", "AB10"),
    ("AL", "St Albans", "AL1"),
    ("B", "Birmingham", "B1"),
    ("BA", "Bath", "BA1"),
    ("BB", "Blackburn", "BB1"),
    ("BD", "Bradford", "BD1"),
    ("BH", "Bournemouth", "BH1"),
    ("BL", "Bolton", "BL1"),
    ("BN", "Brighton", "BN1"),
    ("BR", "Bromley", "BR1"),
    ("BS", "Bristol", "BS1"),
    ("BT", "Belfast", "BT1"),
    ("CA", "Carlisle", "CA1"),
    ("CB", "Cambridge", "CB2"),
    ("CF", "Cardiff", "CF10"),
    ("CH", "Chester", "CH1"),
    ("CM", "Chelmsford", "CM1"),
    ("CO", "Colchester", "CO1"),
    ("CR", "Croydon", "CR0"),
    ("CT", "Canterbury", "CT1"),
    ("CV", "Coventry", "CV1"),
    ("CW", "Crewe", "CW1"),
    ("DA", "Dartford", "DA1"),
    ("DD", "Dundee", "DD1"),
    ("DE", "Derby", "DE1"),
    ("DG", "Dumfries", "DG1"),
    ("DH", "Durham", "DH1"),
    ("DL", "Darlington", "DL1"),
    ("DN", "Doncaster", "DN1"),
    ("DT", "Dorchester", "DT1"),
    ("DY", "Dudley", "DY1"),
    ("E", "London (East)", "E1"),
    ("EC", "London (City)", "EC2"),
    ("EH", "Edinburgh", "EH1"),
    ("EN", "Enfield", "EN1"),
    ("EX", "Exeter", "EX1"),
    ("FK", "Falkirk", "FK1"),
    ("FY", "Blackpool", "FY1"),
    ("G", "Glasgow", "G1"),
    ("GL", "Gloucester", "GL1"),
    ("GU", "Guildford", "GU1"),
    ("GY", "Guernsey", "GY1"),
    ("HA", "Harrow", "HA1"),
    ("HD", "Huddersfield", "HD1"),
    ("HG", "Harrogate", "HG1"),
    ("HP", "Hemel Hempstead", "HP1"),
    ("HR", "Hereford", "HR1"),
    ("HS", "Outer Hebrides", "HS1"),
    ("HU", "Hull", "HU1"),
    ("HX", "Halifax", "HX1"),
    ("IG", "Ilford", "IG1"),
    ("IM", "Isle of Man", "IM1"),
    ("IP", "Ipswich", "IP1"),
    ("IV", "Inverness", "IV1"),
    ("JE", "Jersey", "JE2"),
    ("KA", "Kilmarnock", "KA1"),
    ("KT", "Kingston upon Thames", "KT1"),
    ("KW", "Kirkwall", "KW15"),
    ("KY", "Kirkcaldy", "KY1"),
    ("L", "Liverpool", "L1"),
    ("LA", "Lancaster", "LA1"),
    ("LD", "Llandrindod Wells", "LD1"),
    ("LE", "Leicester", "LE1"),
    ("LL", "Llandudno", "LL30"),
    ("LN", "Lincoln", "LN1"),
    ("LS", "Leeds", "LS1"),
    ("LU", "Luton", "LU1"),
    ("M", "Manchester", "M1"),
    ("ME", "Rochester", "ME1"),
    ("MK", "Milton Keynes", "MK9"),
    ("ML", "Motherwell", "ML1"),
    ("N", "London (North)", "N1"),
    ("NE", "Newcastle upon Tyne", "NE1"),
    ("NG", "Nottingham", "NG1"),
    ("NN", "Northampton", "NN1"),
    ("NP", "Newport", "NP20"),
    ("NR", "Norwich", "NR1"),
    ("NW", "London (North West)", "NW1"),
    ("OL", "Oldham", "OL1"),
    ("OX", "Oxford", "OX1"),
    ("PA", "Paisley", "PA1"),
    ("PE", "Peterborough", "PE1"),
    ("PH", "Perth", "PH1"),
    ("PL", "Plymouth", "PL1"),
    ("PO", "Portsmouth", "PO1"),
    ("PR", "Preston", "PR1"),
    ("RG", "Reading", "RG1"),
    ("RH", "Redhill", "RH1"),
    ("RM", "Romford", "RM1"),
    ("S", "Sheffield", "S1"),
    ("SA", "Swansea", "SA1"),
    ("SE", "London (South East)", "SE1"),
    ("SG", "Stevenage", "SG1"),
    ("SK", "Stockport", "SK1"),
    ("SL", "Slough", "SL1"),
    ("SM", "Sutton", "SM1"),
    ("SN", "Swindon", "SN1"),
    ("SO", "Southampton", "SO14"),
    ("SP", "Salisbury", "SP1"),
    ("SR", "Sunderland", "SR1"),
    ("SS", "Southend-on-Sea", "SS1"),
    ("ST", "Stoke-on-Trent", "ST1"),
    ("SW", "London (South West)", "SW1"),
    ("SY", "Shrewsbury", "SY1"),
    ("TA", "Taunton", "TA1"),
    ("TD", "Galashiels", "TD1"),
    ("TF", "Telford", "TF3"),
    ("TN", "Tonbridge", "TN9"),
    ("TQ", "Torquay", "TQ1"),
    ("TR", "Truro", "TR1"),
    ("TS", "Middlesbrough", "TS1"),
    ("TW", "Twickenham", "TW1"),
    ("UB", "Southall", "UB1"),
    ("W", "London (West)", "W1"),
    ("WA", "Warrington", "WA1"),
    ("WC", "London (West Central)", "WC2"),
    ("WD", "Watford", "WD17"),
    ("WF", "Wakefield", "WF1"),
    ("WN", "Wigan", "WN1"),
    ("WR", "Worcester", "WR1"),
    ("WS", "Walsall", "WS1"),
    ("WV", "Wolverhampton", "WV1"),
    ("YO", "York", "YO1"),
    ("ZE", "Lerwick", "ZE1"),
];

/// Other names people type, `(alias, town in TOWNS or district)`.
pub(super) const ALIASES: &[(&str, &str)] = &[
    ("London", "WC2N"),
    ("City of London", "EC2"),
    ("Newcastle", "Newcastle upon Tyne"),
    ("Cleveland", "Middlesbrough"),
    ("Stoke", "Stoke-on-Trent"),
    ("Kingston upon Hull", "Hull"),
    ("Southend", "Southend-on-Sea"),
    ("Kingston", "Kingston upon Thames"),
    ("Saint Albans", "St Albans"),
    ("Stornoway", "Outer Hebrides"),
    ("Hemel", "Hemel Hempstead"),
    ("Tunbridge Wells", "TN1"),
    ("Wick", "KW1"),
    ("Wrexham", "LL11"),
    ("Bangor", "LL57"),
    ("St Peter Port", "Guernsey"),
    ("St Helier", "Jersey"),
    ("Douglas", "Isle of Man"),
    ("Salford", "M5"),
    ("Westminster", "SW1A"),
    ("Camden", "NW1"),
    ("Islington", "N1"),
    ("Hackney", "E8"),
    ("Brixton", "SW9"),
    ("Lewisham", "SE13"),
];

/// The form names are compared in: lower case, letters and digits only, words
/// separated by one space ("Stoke-on-Trent " → "stoke on trent", "St. Albans" →
/// "st albans").
pub(super) fn match_key(name: &str) -> String {
    let mut key = String::with_capacity(name.len());
    for word in name
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
    {
        if !key.is_empty() {
            key.push(' ');
        }
        key.extend(word.chars().flat_map(char::to_lowercase));
    }
    key
}

/// The town `name` stands for: its label and the district whose centroid to use.
pub(super) fn find_town(name: &str) -> Option<(&'static str, &'static str)> {
    let key = match_key(name);
    if key.is_empty() {
        return None;
    }
    if let Some(found) = TOWNS.iter().find(|(_, town, _)| match_key(town) == key) {
        return Some((found.1, found.2));
    }
    let (alias, target) = ALIASES.iter().find(|(alias, _)| match_key(alias) == key)?;
    match TOWNS.iter().find(|(_, town, _)| *town == *target) {
        Some((_, town, district)) => Some((town, district)),
        // An alias naming a district directly is labelled as typed in the table.
        None => Some((alias, target)),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn every_area_and_alias_points_at_a_known_district() {
        let mut areas = std::collections::HashSet::new();
        for (area, town, district) in TOWNS {
            assert!(areas.insert(*area), "{area} listed twice");
            assert!(
                district.starts_with(area),
                "{town}: {district} not in {area}"
            );
            assert!(
                super::super::outcode_centroid(district).is_some(),
                "{town}: no centroid for {district}"
            );
        }
        assert!(areas.len() >= 121);
        for (alias, target) in ALIASES {
            let (_, district) = find_town(alias).unwrap();
            assert!(
                super::super::outcode_centroid(district).is_some(),
                "{alias} → {target}: no centroid"
            );
        }
    }

    #[test]
    fn names_match_ignoring_case_punctuation_and_spaces() {
        assert_eq!(find_town("bath"), Some(("Bath", "BA1")));
        assert_eq!(
            find_town("  STOKE   on trent "),
            Some(("Stoke-on-Trent", "ST1"))
        );
        assert_eq!(find_town("Stoke"), Some(("Stoke-on-Trent", "ST1")));
        assert_eq!(find_town("st. albans"), Some(("St Albans", "AL1")));
        assert_eq!(find_town("Newcastle"), Some(("Newcastle upon Tyne", "NE1")));
        assert_eq!(find_town("london"), Some(("London", "WC2N")));
        assert_eq!(find_town("London (East)"), Some(("London (East)", "E1")));
        assert_eq!(find_town("Middlesbrough"), Some(("Middlesbrough", "TS1")));
        assert_eq!(find_town("Atlantis"), None);
        assert_eq!(find_town(" - "), None);
    }
}
