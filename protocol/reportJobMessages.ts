// The messages every panel shares that runs a trainer command in a child process and shows the
// report file it writes (the Fixed-Point Debugging view: `reclab inspect`; the Test-Time Scaling
// view: `reclab vote`): host -> webview "busy" (inspecting / voting), "failed", "report"; webview
// -> host "ready", "rerun", "openReport". Each panel's module adds its own report schema and any
// extra messages. Pure: no vscode, no DOM.
import { isText, MAX_TEXT, need, onlyKeys, parseWith, Reject, type Obj, type Parsed } from './messageGuards';

export type ReportJobMessage<Busy extends string, R> =
  | { type: Busy; target: string }
  | { type: 'failed'; target: string; message: string }
  | { type: 'report'; target: string; reportPath: string; report: R };

/** The shared host -> webview messages, or undefined when `type` is none of them (the caller handles its own). */
export function parseReportJobMessage<Busy extends string, R>(o: Obj, type: string, busy: Busy, checkReport: (v: unknown) => R): ReportJobMessage<Busy, R> | undefined {
  switch (type) {
    case busy:
      onlyKeys(o, ['type', 'target']);
      need(isText(o['target']), 'target is not a non-empty string');
      return { type: busy, target: o['target'] };
    case 'failed':
      onlyKeys(o, ['type', 'target', 'message']);
      need(isText(o['target']), 'target is not a non-empty string');
      need(isText(o['message']), `message is not a string of 1 to ${MAX_TEXT} characters`);
      return { type, target: o['target'], message: o['message'] };
    case 'report':
      onlyKeys(o, ['type', 'target', 'reportPath', 'report']);
      need(isText(o['target']), 'target is not a non-empty string');
      need(isText(o['reportPath']), 'reportPath is not a non-empty string');
      return { type, target: o['target'], reportPath: o['reportPath'], report: checkReport(o['report']) };
    default:
      return undefined;
  }
}

export type ReportPanelRequest = { type: 'ready' } | { type: 'rerun' } | { type: 'openReport' };

/** What the host runs on every message from such a panel. */
export function parseReportPanelRequest(m: unknown): Parsed<ReportPanelRequest> {
  return parseWith(m, (o, type): ReportPanelRequest => {
    switch (type) {
      case 'ready':
      case 'rerun':
      case 'openReport':
        onlyKeys(o, ['type']);
        return { type };
      default:
        throw new Reject(`unknown message type "${type}"`);
    }
  });
}
