/// The OpenAPI 3.1 description of availd (`Sources/AvailServer/Resources/openapi.yaml`, written
/// by hand), served at `GET /openapi.yaml`; compiled into the binary as a resource.
enum OpenAPIDocument {
    static let yaml = String(decoding: PackageResources.openapi_yaml, as: UTF8.self)
}
