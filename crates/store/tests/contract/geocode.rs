use barnstorm_domain::event::LocationPrecision;
use barnstorm_domain::geo::LatLon;
use barnstorm_store::geocode::{PostcodeFileReader, RowOutcome};
use barnstorm_store::{GeocodeError, Store, both_backends, outcode_centroid};

async fn imported_postcodes_beat_district_centroids(store: Store) {
    // Before any import a full postcode falls back to its district.
    let before = store.geocode("sw1a 1aa").await.unwrap();
    assert_eq!(before.precision, LocationPrecision::Outcode);
    assert_eq!(before.label, "SW1A");
    assert_eq!(before.postcode.as_deref(), Some("SW1A 1AA"));
    assert_eq!(before.location, outcode_centroid("SW1A").unwrap());

    let palace = LatLon::new(51.501_009, -0.141_588);
    let written = store
        .upsert_postcodes(&[
            ("SW1A 1AA".into(), LatLon::new(1.0, 1.0)),
            ("M1 1AE".into(), LatLon::new(53.479_372, -2.244_813)),
            // Repeated in one batch: the last location wins.
            ("SW1A 1AA".into(), palace),
        ])
        .await
        .unwrap();
    assert_eq!(written, 2);
    assert_eq!(store.postcode_count().await.unwrap(), 2);

    let after = store.geocode("SW1A1AA").await.unwrap();
    assert_eq!(after.precision, LocationPrecision::Postcode);
    assert_eq!(after.label, "SW1A 1AA");
    assert_eq!(after.location, palace);

    // A second import replaces locations.
    let moved = LatLon::new(53.48, -2.24);
    store
        .upsert_postcodes(&[("M1 1AE".into(), moved)])
        .await
        .unwrap();
    assert_eq!(store.geocode("m1 1ae").await.unwrap().location, moved);
    assert_eq!(store.postcode_count().await.unwrap(), 2);
    assert_eq!(store.upsert_postcodes(&[]).await.unwrap(), 0);

    // Districts and towns do not touch the table.
    let district = store.geocode("SW1A").await.unwrap();
    assert_eq!(
        (district.precision, district.label.as_str()),
        (LocationPrecision::Outcode, "SW1A")
    );
    let bath = store.geocode("  bath ").await.unwrap();
    assert_eq!(bath.label, "Bath");
    assert_eq!(bath.location, outcode_centroid("BA1").unwrap());
}

async fn unknown_and_malformed_text_are_input_errors(store: Store) {
    let unknown = store.geocode("ZZ99 9ZZ").await.unwrap_err();
    assert!(unknown.is_input_error());
    assert!(matches!(unknown, GeocodeError::Unknown { .. }));
    assert_eq!(
        unknown.to_string(),
        "'ZZ99 9ZZ' is not a postcode we know. Check it, or enter the postcode district (the part before the space)"
    );
    let malformed = store.geocode("SW1A 1AAA").await.unwrap_err();
    assert!(matches!(malformed, GeocodeError::Malformed { ref given, .. } if given == "SW1A 1AAA"));
    assert!(malformed.is_input_error());
    assert!(matches!(
        store.geocode("Atlantis").await.unwrap_err(),
        GeocodeError::Unknown { .. }
    ));
}

async fn a_code_point_file_imports_and_geocodes(store: Store) {
    let file = include_str!("../fixtures/codepoint-sample.csv");
    let rows: Vec<(String, LatLon)> = PostcodeFileReader::new(file.as_bytes())
        .unwrap()
        .filter_map(|row| match row.unwrap().1 {
            RowOutcome::Located(row) => Some((row.postcode, row.location)),
            _ => None,
        })
        .collect();
    assert_eq!(store.upsert_postcodes(&rows).await.unwrap(), 11);
    let place = store.geocode("TR1 2HE").await.unwrap();
    assert_eq!(place.precision, LocationPrecision::Postcode);
    assert!((place.location.lat - 50.2632).abs() < 1e-4, "{place:?}");
    assert!((place.location.lon + 5.0510).abs() < 1e-4, "{place:?}");
}

both_backends!(
    imported_postcodes_beat_district_centroids => imported_postcodes_beat_district_centroids,
    unknown_and_malformed_text_are_input_errors => unknown_and_malformed_text_are_input_errors,
    a_code_point_file_imports_and_geocodes => a_code_point_file_imports_and_geocodes,
);
