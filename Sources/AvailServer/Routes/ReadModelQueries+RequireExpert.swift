import AvailStore
import Hummingbird

extension ReadModelQueries {
    /// The route's expert (`:id`): valid, one the principal may reach, and known. Another
    /// expert's is the same 404 as one that does not exist, so ids cannot be probed.
    func requireExpert(_ context: AvailRequestContext) async throws -> String {
        let id = try ExpertID.validate(context.parameters.get("id") ?? "")
        try context.principal.requireAccess(toExpert: id)
        guard try await expert(id: id) != nil else { throw Problem.notFound("no expert \(id)") }
        return id
    }
}
