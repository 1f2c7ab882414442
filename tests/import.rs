//! `gosdom import`: the documented samples import, and a file with bad rows reports each
//! with its line number and reason and imports nothing.

use std::path::Path;
use std::process::{Command, Output};

fn gosdom(data: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_gosdom"))
        .arg("--data-dir")
        .arg(data)
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env("GOSDOM_LOG__LEVEL", "warn")
        .output()
        .unwrap()
}

fn count(data: &Path, table: &str) -> i64 {
    let conn = rusqlite::Connection::open(data.join("gosdom.db")).unwrap();
    conn.query_row(&format!("SELECT COUNT(*) FROM {table}"), [], |r| r.get(0))
        .unwrap()
}

fn import_samples(data: &Path) {
    for kind in ["houses", "accounts", "owners", "meters"] {
        let file = format!("docs/samples/{kind}.csv");
        let out = gosdom(data, &["import", kind, &file]);
        assert!(
            out.status.success(),
            "{kind}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(String::from_utf8_lossy(&out.stdout).contains("imported"));
    }
}

#[test]
fn the_documented_samples_import_and_import_again() {
    let dir = tempfile::tempdir().unwrap();
    import_samples(dir.path());
    assert_eq!(count(dir.path(), "houses"), 2);
    assert_eq!(count(dir.path(), "premises"), 3);
    assert_eq!(count(dir.path(), "accounts"), 3);
    assert_eq!(count(dir.path(), "owners"), 3);
    assert_eq!(count(dir.path(), "meters"), 3);
    assert_eq!(count(dir.path(), "owners WHERE snils_hash IS NULL"), 1);

    import_samples(dir.path());
    assert_eq!(count(dir.path(), "accounts"), 3, "a re-import updates");
    assert_eq!(
        count(dir.path(), "owners"),
        3,
        "owners are replaced, not doubled"
    );
}

#[test]
fn bad_rows_are_each_reported_and_nothing_is_imported() {
    let dir = tempfile::tempdir().unwrap();
    import_samples(dir.path());
    let file = dir.path().join("owners-bad.csv");
    std::fs::write(
        &file,
        "house_fias_guid;premise_number;full_name;birth_date;snils;share\n\
         0c5b2444-70a0-4932-980c-b4dc0d3f02b5;2;Сидоров Иван;1980-01-01;;1\n\
         0c5b2444-70a0-4932-980c-b4dc0d3f02b5;2;Сидорова Анна;;123-456-789 65;1\n\
         0c5b2444-70a0-4932-980c-b4dc0d3f02b5;99;Кто-то;1980-01-01;;1\n\
         0c5b2444-70a0-4932-980c-b4dc0d3f02b5;1;Без Даты;;;1/2\n\
         0c5b2444-70a0-4932-980c-b4dc0d3f02b5;1;Дата Неверная;31.02.1980;;1/2\n",
    )
    .unwrap();
    let before = count(dir.path(), "owners");
    let out = gosdom(dir.path(), &["import", "owners", file.to_str().unwrap()]);
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("line 3: `snils`: неверное контрольное число"),
        "{stderr}"
    );
    assert!(
        stderr.contains("line 4: в доме нет помещения 99"),
        "{stderr}"
    );
    assert!(
        stderr.contains("line 5: укажите `snils` или `birth_date`"),
        "{stderr}"
    );
    assert!(
        stderr.contains("line 6: `birth_date` \"31.02.1980\" — не дата"),
        "{stderr}"
    );
    assert!(!stderr.contains("line 2:"), "{stderr}");
    assert!(
        stderr.contains("nothing was imported: 4 row(s) have errors"),
        "{stderr}"
    );
    assert_eq!(
        count(dir.path(), "owners"),
        before,
        "the good row was not imported either"
    );
    assert_eq!(
        count(dir.path(), "owners WHERE display_name = 'Сидоров Иван'"),
        0
    );
}

#[test]
fn a_wrong_header_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("meters.csv");
    std::fs::write(&file, "house,premise_number,serial\n").unwrap();
    let out = gosdom(dir.path(), &["import", "meters", file.to_str().unwrap()]);
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("нет столбца `house_fias_guid`"), "{stderr}");
}

/// The samples are the sandbox demo УО's: imported next to the demo data they add houses to
/// that УО, no second organisation (so its admin may upload them in the console).
#[test]
fn the_samples_belong_to_the_sandbox_demo_uo() {
    let dir = tempfile::tempdir().unwrap();
    let mut config = gosdom::config::Config::default();
    config.storage.data_dir = dir.path().to_path_buf();
    drop(gosdom::server::Service::prepare(config).unwrap());
    assert_eq!(count(dir.path(), "organisations"), 1);
    let houses = count(dir.path(), "houses");
    import_samples(dir.path());
    assert_eq!(count(dir.path(), "organisations"), 1);
    assert_eq!(count(dir.path(), "organisations WHERE demo = 1"), 1);
    assert_eq!(count(dir.path(), "houses"), houses + 2);
}
