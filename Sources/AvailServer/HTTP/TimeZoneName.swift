import AvailCore
enum TimeZoneName {
    static func isValid(_ name: String) -> Bool {
        NativeSchedule.knownZones.contains(name)
    }
}
