//! Headless Chromium, as the browser that opens the time line page the way on-call would: it
//! loads the page from a file, runs its script, and hands back the DOM as rendered. `chromium`
//! must be on the PATH (`scripts/test.sh` installs Debian's `chromium`); without it the test
//! fails.

use std::path::Path;
use std::process::Command;
use std::sync::Mutex;

/// One browser at a time: two at once (the tests of both backends run in parallel) on two
/// shared cores only make both slow.
static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());

/// The DOM of `page` after its scripts ran, serialized by the browser.
pub fn rendered_dom(page: &Path) -> String {
    let profile = tempfile::tempdir().expect("temp dir");
    let _turn = ONE_AT_A_TIME.lock().unwrap_or_else(|p| p.into_inner());
    let output = Command::new("chromium")
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--no-first-run",
        ])
        .arg(format!("--user-data-dir={}", profile.path().display()))
        .arg("--dump-dom")
        .arg(format!("file://{}", page.display()))
        .output()
        .expect("`chromium` must be installed: apt-get install chromium (scripts/test.sh does)");
    assert!(
        output.status.success(),
        "chromium could not load {}: {}",
        page.display(),
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).expect("the DOM is UTF-8")
}
