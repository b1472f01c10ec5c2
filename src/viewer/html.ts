// The page's HTML and CSS (the script is /app.js). Element ids are the contract with src/viewer/page/main.ts.
export const PAGE_HTML = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>duet view</title>
<style>
  html, body { margin: 0; height: 100%; font: 13px system-ui, sans-serif; background: #1d2026; color: #e6e6e6; }
  body { display: grid; grid-template-rows: auto 1fr auto; }
  header { display: flex; gap: 12px; align-items: center; padding: 6px 10px; background: #272b33; }
  header h1 { font-size: 15px; margin: 0; }
  #error { display: none; margin: 0; padding: 8px 10px; background: #7a1f1f; color: #fff; white-space: pre-wrap; }
  #error.shown { display: block; }
  main { display: grid; grid-template-columns: 1fr 340px; min-height: 0; }
  #view { position: relative; min-height: 0; }
  #view canvas { display: block; width: 100%; height: 100%; }
  aside { overflow: auto; padding: 8px; background: #23262d; }
  aside h2 { font-size: 12px; margin: 8px 0 4px; text-transform: uppercase; color: #9aa; }
  #cameras { display: flex; flex-wrap: wrap; gap: 4px; }
  #cameras figure { margin: 0; }
  #cameras img { width: 96px; height: 96px; image-rendering: pixelated; background: #000; }
  #cameras figcaption { font-size: 10px; color: #9aa; }
  #plot { width: 320px; height: 220px; background: #15171b; }
  #notes, #teleop-help { color: #9aa; font-size: 11px; }
  footer { display: flex; gap: 8px; align-items: center; padding: 6px 10px; background: #272b33; }
  #timeline { flex: 1; }
  #teleop { display: none; }
  #teleop.shown { display: block; }
  kbd { background: #333; border-radius: 3px; padding: 0 3px; }
</style>
</head>
<body>
<div>
  <header>
    <h1>duet view</h1>
    <select id="episode" title="episode"></select>
    <span id="status"></span>
  </header>
  <pre id="error"></pre>
</div>
<main>
  <div id="view"></div>
  <aside>
    <div id="notes"></div>
    <section id="teleop">
      <h2>Teleoperation</h2>
      <div id="teleop-state"></div>
      <p id="teleop-help">
        <kbd>1</kbd>/<kbd>2</kbd> or <kbd>Tab</kbd>: left/right arm · <kbd>W</kbd><kbd>S</kbd> ±x,
        <kbd>A</kbd><kbd>D</kbd> ±y, <kbd>E</kbd><kbd>Q</kbd> up/down (1 cm) · <kbd>Z</kbd><kbd>X</kbd> twist ·
        <kbd>Space</kbd> open/close gripper · drag a target sphere with the mouse · <kbd>Enter</kbd> save episode ·
        <kbd>Backspace</kbd> discard
      </p>
      <button id="save">Save episode</button> <button id="discard">Discard</button>
    </section>
    <h2>Cameras</h2>
    <div id="cameras"></div>
    <h2>Joints</h2>
    <select id="plot-arm"><option value="left">left arm</option><option value="right">right arm</option></select>
    <canvas id="plot" width="320" height="220"></canvas>
  </aside>
</main>
<footer>
  <button id="play">Play</button>
  <input id="timeline" type="range" min="0" max="0" value="0">
  <span id="frame">0 / 0</span>
</footer>
<script type="module" src="/app.js"></script>
</body>
</html>
`;
