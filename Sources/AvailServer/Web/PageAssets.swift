/// The settings page's style sheet and script (`Resources/settings.css`, `Resources/settings.js`),
/// served from `/assets/`: plain CSS and plain JavaScript, no build step. The script talks to the
/// same JSON API as every other client, signed in by the session cookie and carrying the page's
/// CSRF token.
enum PageAssets {
    static let css = String(decoding: PackageResources.settings_css, as: UTF8.self)
    static let script = String(decoding: PackageResources.settings_js, as: UTF8.self)
}
