import Mustache

/// The settings page's Mustache templates. Kept in the source (not read from disk) so a copied
/// binary serves the same page. `{{x}}` escapes HTML; nothing is rendered unescaped.
enum PageTemplates {
    static let library: MustacheLibrary = {
        var library = MustacheLibrary()
        // The templates are constants: a parse error is a programming error, caught by the tests.
        try! library.register(head, named: "head")
        try! library.register(signIn, named: "sign-in")
        try! library.register(settings, named: "settings")
        try! library.register(appointments, named: "appointments")
        return library
    }()

    static let head = """
        <!doctype html>
        <html lang="en">
        <head>
        <meta charset="utf-8">
        <meta name="viewport" content="width=device-width, initial-scale=1">
        <title>{{title}} · availd</title>
        <link rel="stylesheet" href="/assets/settings.css">
        </head>
        """

    static let signIn = """
        {{> head}}
        <body>
        <main class="narrow">
          <h1>Availability settings</h1>
          <p>Sign in with the expert token you were given for <strong>{{expertID}}</strong>.</p>
          <form method="post" action="/experts/{{expertID}}/availability-settings/sign-in" class="card">
            <input type="hidden" name="csrf_token" value="{{csrf}}">
            <label for="token">Expert token</label>
            <input id="token" name="token" type="password" autocomplete="current-password" required
                   {{#error}}aria-invalid="true" aria-describedby="token-error"{{/error}}>
            {{#error}}<p id="token-error" class="error" role="alert">{{error}}</p>{{/error}}
            <button type="submit">Sign in</button>
          </form>
        </main>
        </body>
        </html>
        """

    static let settings = """
        {{> head}}
        <body data-expert="{{expert.id}}" data-csrf="{{csrf}}">
        <header class="bar">
          <span class="brand">availd</span>
          <span class="who">{{expert.name}}</span>
          <form method="post" action="/experts/{{expert.id}}/availability-settings/sign-out">
            <input type="hidden" name="csrf_token" value="{{csrf}}">
            <button type="submit" class="link">Sign out</button>
          </form>
        </header>
        <main>
          <h1>Availability Management</h1>
          <section class="card" aria-labelledby="integration-heading">
            <h2 id="integration-heading">How clients book you</h2>
            <fieldset class="choices">
              <legend>Integration</legend>
              <label><input type="radio" name="integration" value="calendly" {{#showCalendly}}checked{{/showCalendly}}> Connect my Calendly account</label>
              <label><input type="radio" name="integration" value="native" {{#showNative}}checked{{/showNative}}> Use my own schedule</label>
            </fieldset>
            <p class="status" id="integration-status">Now: <strong>{{integrationLabel}}</strong></p>

            <div id="calendly-panel" class="panel" {{^showCalendly}}hidden{{/showCalendly}}>
              {{#account}}
              <div class="connected" id="calendly-account" data-status="{{#needsReconnect}}needs_reconnect{{/needsReconnect}}{{^needsReconnect}}connected{{/needsReconnect}}">
                <p>Calendly account <strong id="account-name">{{name}}</strong> <span class="muted">{{email}}</span></p>
                <p class="muted">Connected since {{connectedAt}}</p>
                <p class="muted" id="subscription" data-state="{{subscriptionState}}">{{subscription}}</p>
                <p class="muted" id="reconciled">{{reconciled}}</p>
                {{#needsReconnect}}
                <p class="error" role="alert" id="reconnect-needed">Calendly no longer accepts availd's access to this account, so clients cannot book you through it. Reconnect to go on.</p>
                <a class="button" id="reconnect" href="/experts/{{expert.id}}/calendly/authorize">Reconnect Calendly</a>
                {{/needsReconnect}}
                {{^needsReconnect}}
                <form id="event-types-form" novalidate>
                  <fieldset class="event-types">
                    <legend>Event types clients can book</legend>
                    {{#eventTypes}}
                    <label><input type="checkbox" name="event_type" value="{{uri}}" {{#chosen}}checked{{/chosen}}> {{name}} · {{duration}} minutes{{#inactive}} <span class="muted">(inactive in Calendly)</span>{{/inactive}}</label>
                    {{/eventTypes}}
                    {{^hasEventTypes}}{{^eventTypesError}}<p class="muted">This Calendly account has no event types yet. Create one in Calendly, then reload.</p>{{/eventTypesError}}{{/hasEventTypes}}
                    {{#eventTypesError}}<p class="error" role="alert">{{eventTypesError}}</p>{{/eventTypesError}}
                  </fieldset>
                  <p id="event-types-error" class="error" role="alert" hidden></p>
                  {{#hasEventTypes}}<button type="submit" id="save-event-types">Offer these</button>{{/hasEventTypes}}
                </form>
                {{/needsReconnect}}
                <button type="button" id="disconnect" class="danger">Disconnect Calendly</button>
              </div>
              {{/account}}
              {{^account}}
              {{#oauthAvailable}}
              <p><a class="button" id="connect-calendly" href="/experts/{{expert.id}}/calendly/authorize">Connect with Calendly</a></p>
              <p class="muted">You sign in at Calendly and approve; then choose which of your event types clients can book.</p>
              {{/oauthAvailable}}
              {{^oauthAvailable}}
              <p class="muted" id="oauth-unavailable">Connecting your own Calendly account is not available here: this availd has no Calendly app configured (its operator starts it with <code>--calendly-client-id</code> and <code>--calendly-client-secret</code>). You can still give an event link of the organization's Calendly below.</p>
              {{/oauthAvailable}}
              {{#calendly}}
              <div class="connected" id="calendly-connected">
                <p>Connected to <strong id="event-type-name">{{name}}</strong>{{#duration}} · <span id="event-type-duration">{{duration}} minutes</span>{{/duration}}</p>
                <p class="muted"><a href="{{link}}" rel="noopener">{{link}}</a> · since {{connectedAt}}</p>
                <p class="muted" id="organization-subscription" data-state="{{subscriptionState}}">{{subscription}}</p>
                <button type="button" id="disconnect" class="danger">Disconnect</button>
              </div>
              {{/calendly}}
              <form id="calendly-form" novalidate>
                <label for="event-link">Calendly event link</label>
                <input id="event-link" name="event_link" type="url" inputmode="url" placeholder="https://calendly.com/you/30min"
                       value="{{eventLinkValue}}" aria-describedby="event-link-help event-link-error" required>
                <p id="event-link-help" class="muted">The link clients open to book you, as Calendly shows it.</p>
                <p id="event-link-error" class="error" role="alert" hidden></p>
                <button type="submit">{{#calendly}}Change event{{/calendly}}{{^calendly}}Connect{{/calendly}}</button>
              </form>
              {{/account}}
            </div>

            <div id="native-panel" class="panel" {{^showNative}}hidden{{/showNative}}>
              <form id="native-form" novalidate>
                <div class="row">
                  <label for="timezone">Time zone</label>
                  <select id="timezone" name="timezone">{{#zones}}<option value="{{name}}" {{#selected}}selected{{/selected}}>{{name}}</option>{{/zones}}</select>
                </div>
                <div class="row">
                  <label for="duration">Meeting length (minutes)</label>
                  <input id="duration" name="duration" type="number" min="5" max="720" step="5" value="{{native.duration}}">
                </div>
                <fieldset class="hours">
                  <legend>Weekly hours</legend>
                  {{#native.weekdays}}
                  <div class="day" data-wday="{{key}}">
                    <label class="day-name"><input type="checkbox" class="day-on" {{#enabled}}checked{{/enabled}}> {{label}}</label>
                    <div class="intervals">
                      {{#intervals}}
                      <span class="interval">
                        <input type="time" class="from" aria-label="{{label}} from" value="{{from}}">
                        <span aria-hidden="true">–</span>
                        <input type="time" class="to" aria-label="{{label}} to" value="{{to}}">
                        <button type="button" class="link remove-interval" aria-label="Remove {{label}} {{from}}–{{to}}">Remove</button>
                      </span>
                      {{/intervals}}
                    </div>
                    <button type="button" class="link add-interval" aria-label="Add hours on {{label}}">Add hours</button>
                  </div>
                  {{/native.weekdays}}
                </fieldset>
                <fieldset class="overrides">
                  <legend>Date overrides</legend>
                  <ul id="overrides">
                  {{#native.overrides}}
                    <li class="override">
                      <input type="date" class="date" aria-label="Date" value="{{date}}">
                      <input type="time" class="from" aria-label="From" value="{{from}}">
                      <input type="time" class="to" aria-label="To" value="{{to}}">
                      <label><input type="checkbox" class="off" {{#off}}checked{{/off}}> Unavailable</label>
                      <button type="button" class="link remove">Remove</button>
                    </li>
                  {{/native.overrides}}
                  </ul>
                  <button type="button" id="add-override" class="secondary">Add a date</button>
                </fieldset>
                <p id="native-error" class="error" role="alert" hidden></p>
                <button type="submit">Save my schedule</button>
              </form>
            </div>
          </section>

          <section class="card" aria-labelledby="slots-heading">
            <h2 id="slots-heading">Next available slots <span class="muted">({{slotsZone}})</span></h2>
            {{#slotsError}}<p class="muted">{{slotsError}}</p>{{/slotsError}}
            <ul class="slots">{{#slots}}<li>{{.}}</li>{{/slots}}</ul>
            {{^slots}}{{^slotsError}}<p class="muted">No free slot in the next 7 days.</p>{{/slotsError}}{{/slots}}
          </section>

          <section class="card" aria-labelledby="feeds-heading" id="calendar-feeds">
            <h2 id="feeds-heading">Subscribe in my calendar</h2>
            <p class="muted">A private address your calendar app (Google Calendar, Apple Calendar, Outlook) subscribes to: your appointments, kept up to date. Anyone who has it can read them; revoke it here if it leaks.</p>
            <button type="button" id="create-feed">Create a calendar address</button>
            <div id="new-feed" hidden>
              <label for="new-feed-url">Your new calendar address</label>
              <div class="copy-row">
                <input id="new-feed-url" type="text" readonly aria-describedby="new-feed-help">
                <button type="button" id="copy-feed" class="secondary">Copy</button>
              </div>
              <p id="new-feed-help" class="muted">Shown only now: availd keeps only a fingerprint of it. Paste it into your calendar app's "subscribe" or "add calendar from URL".</p>
              <p id="copy-status" class="muted" role="status" aria-live="polite"></p>
            </div>
            <p id="feeds-error" class="error" role="alert" hidden></p>
            <ul id="feeds" class="feeds" aria-label="Calendar addresses">
              {{#feeds.feeds}}
              <li data-feed="{{id}}"><span>Created {{createdAt}}</span> <button type="button" class="link revoke-feed" aria-label="Revoke the calendar address created {{createdAt}}">Revoke</button></li>
              {{/feeds.feeds}}
            </ul>
            <p class="muted" id="no-feeds" {{#feeds.hasFeeds}}hidden{{/feeds.hasFeeds}}>No calendar address yet.</p>
          </section>

          <section class="card" aria-labelledby="appointments-heading">
            <h2 id="appointments-heading">Upcoming appointments <span class="muted">({{expert.timezone}})</span> <span id="live" class="muted" aria-live="polite"></span></h2>
            <div id="appointments">{{#upcoming}}{{> appointments}}{{/upcoming}}</div>
          </section>
        </main>
        <template id="interval-template">
          <span class="interval">
            <input type="time" class="from" aria-label="From" value="13:00">
            <span aria-hidden="true">–</span>
            <input type="time" class="to" aria-label="To" value="17:00">
            <button type="button" class="link remove-interval" aria-label="Remove these hours">Remove</button>
          </span>
        </template>
        <template id="override-template">
          <li class="override">
            <input type="date" class="date" aria-label="Date">
            <input type="time" class="from" aria-label="From" value="09:00">
            <input type="time" class="to" aria-label="To" value="17:00">
            <label><input type="checkbox" class="off"> Unavailable</label>
            <button type="button" class="link remove">Remove</button>
          </li>
        </template>
        <script src="/assets/settings.js" defer></script>
        </body>
        </html>
        """

    static let appointments = """
        {{^hasAppointments}}<p class="muted" id="no-appointments">Nothing booked yet.</p>{{/hasAppointments}}
        {{#hasAppointments}}
        <table class="appointments">
          <thead><tr><th scope="col">When</th><th scope="col">Who</th><th scope="col">Status</th></tr></thead>
          <tbody>
          {{#appointments}}
          <tr id="appointment-{{id}}" class="status-{{status}}">
            <td>{{when}}</td>
            <td>{{invitee}}</td>
            <td><span class="badge">{{statusLabel}}</span>{{#noShow}} <span class="badge warn">no-show</span>{{/noShow}}{{#movedTo}} <a href="#appointment-{{movedTo}}">to the new time</a>{{/movedTo}}</td>
          </tr>
          {{/appointments}}
          </tbody>
        </table>
        {{/hasAppointments}}
        """
}
