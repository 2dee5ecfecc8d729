import Foundation

/// availd's own events (source `api`) about appointments it books itself, through the native
/// strategy. Their JSON is the log's format: add fields as optionals, never rename.
public enum AppointmentEvent: Sendable, Equatable {
    case booked(AppointmentBooked)
    case rescheduled(AppointmentRescheduled)
    case canceled(AppointmentCanceled)

    public var appointmentID: String {
        switch self {
        case .booked(let event): event.appointmentID
        case .rescheduled(let event): event.appointmentID
        case .canceled(let event): event.appointmentID
        }
    }

    public var type: String {
        switch self {
        case .booked: AppointmentBooked.type
        case .rescheduled: AppointmentRescheduled.type
        case .canceled: AppointmentCanceled.type
        }
    }

    public func encoded() -> Data {
        let encoder = JSONEncoder.canonical()
        // Strings and timestamps always encode.
        switch self {
        case .booked(let event): return try! encoder.encode(event)
        case .rescheduled(let event): return try! encoder.encode(event)
        case .canceled(let event): return try! encoder.encode(event)
        }
    }

    static func decode(type: String, body: Data) throws -> AppointmentEvent? {
        let decoder = JSONDecoder()
        switch type {
        case AppointmentBooked.type: return .booked(try decoder.decode(AppointmentBooked.self, from: body))
        case AppointmentRescheduled.type: return .rescheduled(try decoder.decode(AppointmentRescheduled.self, from: body))
        case AppointmentCanceled.type: return .canceled(try decoder.decode(AppointmentCanceled.self, from: body))
        default: return nil
        }
    }
}

/// `POST /experts/{id}/appointments` on a native schedule. The id is chosen when booking and
/// recorded here, so a rebuild gives the same id.
public struct AppointmentBooked: Codable, Sendable, Equatable {
    public static let type = "appointment.booked"
    public var appointmentID: String
    public var expertID: String
    public var startTime: Timestamp
    public var endTime: Timestamp
    public var invitee: Appointment.Invitee
    public var at: Timestamp

    public init(appointmentID: String, expertID: String, startTime: Timestamp, endTime: Timestamp, invitee: Appointment.Invitee, at: Timestamp) {
        self.appointmentID = appointmentID
        self.expertID = expertID
        self.startTime = startTime
        self.endTime = endTime
        self.invitee = invitee
        self.at = at
    }

    enum CodingKeys: String, CodingKey {
        case invitee, at
        case appointmentID = "appointment_id", expertID = "expert_id", startTime = "start_time", endTime = "end_time"
    }
}

/// `PATCH /appointments/{id}`: the old appointment becomes `rescheduled`, a new one is booked.
public struct AppointmentRescheduled: Codable, Sendable, Equatable {
    public static let type = "appointment.rescheduled"
    public var appointmentID: String
    public var newAppointmentID: String
    public var startTime: Timestamp
    public var endTime: Timestamp
    public var at: Timestamp

    public init(appointmentID: String, newAppointmentID: String, startTime: Timestamp, endTime: Timestamp, at: Timestamp) {
        self.appointmentID = appointmentID
        self.newAppointmentID = newAppointmentID
        self.startTime = startTime
        self.endTime = endTime
        self.at = at
    }

    enum CodingKeys: String, CodingKey {
        case at
        case appointmentID = "appointment_id", newAppointmentID = "new_appointment_id"
        case startTime = "start_time", endTime = "end_time"
    }
}

/// `POST /appointments/{id}/cancel`.
public struct AppointmentCanceled: Codable, Sendable, Equatable {
    public static let type = "appointment.canceled"
    public var appointmentID: String
    public var reason: String?
    public var at: Timestamp

    public init(appointmentID: String, reason: String?, at: Timestamp) {
        self.appointmentID = appointmentID
        self.reason = reason
        self.at = at
    }

    enum CodingKeys: String, CodingKey {
        case reason, at
        case appointmentID = "appointment_id"
    }
}
