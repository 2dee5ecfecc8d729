import Mustache

/// The settings page's Mustache templates (`Resources/*.mustache`), compiled into the binary so
/// a copied one serves the same page. `{{x}}` escapes HTML; nothing is rendered unescaped.
enum PageTemplates {
    static let library: MustacheLibrary = {
        var library = MustacheLibrary()
        let templates = [
            ("head", PackageResources.head_mustache), ("sign-in", PackageResources.sign_in_mustache),
            ("settings", PackageResources.settings_mustache), ("appointments", PackageResources.appointments_mustache),
        ]
        for (name, bytes) in templates {
            // The templates are part of the build: a parse error is a programming error, caught by the tests.
            try! library.register(String(decoding: bytes, as: UTF8.self), named: name)
        }
        return library
    }()
}
