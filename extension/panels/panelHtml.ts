// The HTML shell of a webview: a strict Content-Security-Policy with a fresh nonce per load, the
// bundle's script and style sheets, nothing inline but the nonce'd tags. The view builds its DOM.
import { randomBytes } from 'node:crypto';
import * as vscode from 'vscode';

export function webviewHtml(webview: vscode.Webview, opts: { title: string; script: vscode.Uri; styles: vscode.Uri[] }): string {
  const nonce = randomBytes(16).toString('base64');
  const csp = [
    "default-src 'none'",
    `img-src ${webview.cspSource} data:`,
    `font-src ${webview.cspSource}`,
    `style-src ${webview.cspSource} 'nonce-${nonce}'`,
    `script-src 'nonce-${nonce}'`,
  ].join('; ');
  const esc = (s: string) => s.replace(/[&<>"]/g, (c) => `&#${c.charCodeAt(0)};`);
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="UTF-8">
<meta http-equiv="Content-Security-Policy" content="${csp}">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
${opts.styles.map((s) => `<link rel="stylesheet" nonce="${nonce}" href="${esc(webview.asWebviewUri(s).toString())}">`).join('\n')}
<title>${esc(opts.title)}</title>
</head>
<body>
<script nonce="${nonce}" src="${esc(webview.asWebviewUri(opts.script).toString())}"></script>
</body>
</html>`;
}

/** A panel's options: scripts on, kept while hidden, and only the webview bundles and the icons as local resources (no workspace file, no node_modules). */
export function webviewPanelOptions(extensionUri: vscode.Uri): vscode.WebviewPanelOptions & vscode.WebviewOptions {
  return {
    enableScripts: true,
    retainContextWhenHidden: true,
    localResourceRoots: [vscode.Uri.joinPath(extensionUri, 'dist', 'webview'), vscode.Uri.joinPath(extensionUri, 'media')],
  };
}

/** A panel's icon and page: the bundle `dist/webview/<bundle>.{js,css}` that build.mjs writes from `webview/<bundle>/`. */
export function showWebviewBundle(panel: vscode.WebviewPanel, extensionUri: vscode.Uri, title: string, bundle: string): void {
  const dist = vscode.Uri.joinPath(extensionUri, 'dist', 'webview');
  panel.iconPath = vscode.Uri.joinPath(extensionUri, 'media', 'reclab.svg');
  panel.webview.html = webviewHtml(panel.webview, { title, script: vscode.Uri.joinPath(dist, `${bundle}.js`), styles: [vscode.Uri.joinPath(dist, `${bundle}.css`)] });
}
