// WebPageVideoScript: the annotation page's video view — opening and uploading videos, a frame slider
// with play/pause and stepping, clicks and boxes as prompts for the selected object, objects without
// a cap (colour, select, hide, remove), tracking forward, backward or both with progress and masks
// appearing as frames are done, scrubbing, corrections, export; over the video API. Uses the helpers
// of WebPageScript (api, paint, colourOf, layout, drawPrompts, view).

enum WebPageVideoScript {
    static let text = #"""
        "use strict";
        const video = {
          info: null,           // the open video: {id, name, frames, width, height, fps, objects, tracked, prompts}
          frame: 0,             // the frame shown
          masks: new Map(),     // frame → {frame, objects: [{id, mask, score, area, bbox}]} as served
          clicks: new Map(),    // "frame:object" → {points, labels, box} sent for it
          objects: [],          // object ids, in the order created
          selected: null,       // the object that clicks prompt
          hidden: new Set(),
          playing: false,
          frameToken: 0,        // the latest frame asked for (older answers are dropped)
          tracking: false,
        };
        const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
        const videoPath = (rest) => "/api/videos/" + video.info.id + rest;
        const objectColour = (id) => colourOf(id - 1);

        function renderVideoList(videos) {
          $("videos").replaceChildren(...(videos || []).map((entry) => {
            const li = document.createElement("li");
            li.dataset.name = entry.name;
            if (state.video && video.info.name === entry.name) li.className = "current";
            const name = document.createElement("span"); name.className = "grow"; name.textContent = entry.name;
            li.append(name);
            li.addEventListener("click", () => openVideo(entry.name));
            return li;
          }));
        }

        async function openVideo(name) {
          try {
            status("Opening " + name + "…");
            await showVideo(await api("POST", "/api/videos/open", { name }));
          } catch (e) { status(e.message, true); }
        }

        async function uploadVideo(file) {
          try {
            status("Uploading " + file.name + "…");
            await showVideo(await api("POST", "/api/videos/upload?name=" + encodeURIComponent(file.name), undefined,
              file));
          } catch (e) { status(e.message, true); }
        }

        async function showVideo(info) {
          video.playing = false;
          Object.assign(video, { info, frame: 0, masks: new Map(), clicks: new Map(), objects: info.objects.slice(),
            selected: info.objects.length ? info.objects[0] : null, hidden: new Set() });
          for (const p of info.prompts) {
            video.clicks.set(p.frame + ":" + p.object, { points: p.points || [], labels: p.labels || [],
              box: p.box || null });
          }
          Object.assign(state, { image: null, video: { width: info.width, height: info.height }, points: [],
            labels: [], box: null, result: null, history: [], candidates: [], objects: [] });
          document.body.dataset.mode = "video";
          delete document.body.dataset.image;
          for (const c of [imageCanvas, maskCanvas]) { c.width = info.width; c.height = info.height; }
          $("frame-slider").max = String(info.frames - 1);
          layout(); renderVideoObjects();
          await showFrame(0);
          await refreshImages();
          document.body.dataset.video = info.id;
          status(info.name + ": " + info.frames + " frames, " + info.width + "×" + info.height + ". " +
            (video.objects.length ? "Track with T, or click to correct." : "Click an object to prompt it."));
          watchTracking(false);
        }

        function leaveVideo() {
          video.playing = false;
          state.video = null;
          document.body.dataset.mode = "image";
          delete document.body.dataset.video;
        }

        // Shows frame f with its masks (both loaded before either is drawn) and the selected object's prompts.
        async function showFrame(f) {
          if (!video.info) return;
          f = Math.max(0, Math.min(video.info.frames - 1, f));
          video.frame = f;
          $("frame-slider").value = String(f);
          $("frame-label").textContent = "frame " + f + " / " + (video.info.frames - 1);
          const token = ++video.frameToken;
          const img = new Image();
          img.src = videoPath("/frames/" + f);
          const masks = frameMasks(f);
          try { await img.decode(); } catch (e) { return; }
          await masks;
          if (token !== video.frameToken || !state.video) return;
          imageCanvas.getContext("2d").drawImage(img, 0, 0);
          drawVideoMasks(); showClicks();
          document.body.dataset.frame = String(f);
        }

        async function frameMasks(f) {
          if (video.masks.has(f)) return video.masks.get(f);
          try {
            const m = await api("GET", videoPath("/masks?frame=" + f));
            video.masks.set(f, m);
            return m;
          } catch (e) { video.masks.delete(f); return null; }
        }

        // Every visible object's mask on the frame shown; smaller ids on top, as in the DAVIS export.
        function drawVideoMasks() {
          const ctx = maskCanvas.getContext("2d");
          const data = ctx.createImageData(video.info.width, video.info.height);
          const m = video.masks.get(video.frame);
          const objects = m ? m.objects.filter((o) => !video.hidden.has(o.id)) : [];
          objects.sort((a, b) => b.id - a.id).forEach((o) => paint(data.data, o.mask, objectColour(o.id), 130));
          ctx.putImageData(data, 0, 0);
        }

        function showClicks() {
          const c = video.clicks.get(video.frame + ":" + video.selected);
          Object.assign(state, { points: c ? c.points.slice() : [], labels: c ? c.labels.slice() : [],
            box: c ? c.box : null });
          drawPrompts();
        }

        function renderVideoObjects() {
          $("video-objects").replaceChildren(...video.objects.map((id) => {
            const li = document.createElement("li");
            li.dataset.object = String(id);
            li.className = (id === video.selected ? "selected" : "") + (video.hidden.has(id) ? " hidden-object" : "");
            const swatch = document.createElement("span"); swatch.className = "swatch";
            swatch.style.background = "rgb(" + objectColour(id).join(",") + ")";
            const name = document.createElement("span"); name.className = "grow"; name.textContent = "object " + id;
            const hide = document.createElement("button"); hide.className = "toggle";
            hide.textContent = video.hidden.has(id) ? "show" : "hide";
            hide.addEventListener("click", (e) => { e.stopPropagation(); toggleHidden(id); });
            const del = document.createElement("button"); del.className = "delete"; del.textContent = "✕";
            del.title = "Remove the object";
            del.addEventListener("click", (e) => { e.stopPropagation(); removeObject(id); });
            li.append(swatch, name, hide, del);
            li.addEventListener("click", () => selectObject(id));
            return li;
          }));
        }

        function selectObject(id) {
          video.selected = id;
          renderVideoObjects(); showClicks();
        }

        function newObject() {
          const id = Math.max(0, ...video.objects) + 1;
          video.objects.push(id);
          selectObject(id);
          status("Object " + id + ": click it (shift-click: background, drag: box).");
        }

        function toggleHidden(id) {
          if (video.hidden.has(id)) video.hidden.delete(id); else video.hidden.add(id);
          renderVideoObjects(); drawVideoMasks();
        }

        async function removeObject(id) {
          try {
            if (video.info.objects.includes(id)) await api("DELETE", videoPath("/objects/" + id));
            video.objects = video.objects.filter((o) => o !== id);
            for (const [f, m] of video.masks) {
              video.masks.set(f, { frame: f, objects: m.objects.filter((o) => o.id !== id) });
            }
            for (const key of [...video.clicks.keys()]) if (key.endsWith(":" + id)) video.clicks.delete(key);
            if (video.selected === id) video.selected = video.objects.length ? video.objects[0] : null;
            video.info = await api("GET", videoPath(""));
            renderVideoObjects(); drawVideoMasks(); showClicks();
            status("Removed object " + id + ".");
          } catch (e) { status(e.message, true); }
        }

        // A click (point) or a drag (box) on the frame shown, for the selected object (a new one if none).
        async function videoPrompt(drag) {
          if (video.tracking) { status("Tracking: wait for it or cancel it (Esc) before prompting.", true); return; }
          if (video.selected === null) newObject();
          const key = video.frame + ":" + video.selected;
          const old = video.clicks.get(key) || { points: [], labels: [], box: null };
          const c = { points: old.points.slice(), labels: old.labels.slice(), box: old.box };
          if (drag.moved) {
            c.box = [Math.min(drag.x0, drag.x1), Math.min(drag.y0, drag.y1), Math.max(drag.x0, drag.x1),
              Math.max(drag.y0, drag.y1)];
          } else {
            c.points.push([drag.x0, drag.y0]);
            c.labels.push(drag.button === 2 || drag.shift ? 0 : 1);
          }
          const body = { frame: video.frame, object: video.selected, points: c.points, labels: c.labels,
            clear_old_points: true };
          if (c.box) body.box = c.box;
          try {
            const r = await api("POST", videoPath("/prompts"), body);
            video.clicks.set(key, c);
            video.masks.set(r.frame, { frame: r.frame, objects: r.objects });
            if (!video.info.objects.includes(r.object)) video.info.objects.push(r.object);
            if (r.frame === video.frame) { drawVideoMasks(); showClicks(); }
            status("Object " + r.object + " on frame " + r.frame + ": " + r.area + " px. T tracks it forward.");
            document.body.dataset.videoMasks = String((Number(document.body.dataset.videoMasks) || 0) + 1);
          } catch (e) { status(e.message, true); }
        }

        // Tracks from the frame shown: forward, backward, or both (forward, then backward).
        async function track(direction) {
          if (!video.info || video.tracking) return;
          const passes = direction === "both" ? [false, true] : [direction === "backward"];
          const start = video.frame;
          for (const reverse of passes) {
            try {
              await api("POST", videoPath("/track"), { start, reverse });
            } catch (e) { status(e.message, true); return; }
            if (await watchTracking(true) !== "done") return;
          }
        }

        // Follows the video's tracking job (`started`: the one just started, which may have ended already; else
        // one running, if any): progress, and masks shown as frames are done.
        async function watchTracking(started) {
          const id = video.info.id;
          let s = await api("GET", videoPath("/track")).catch(() => null);
          if (!s || (!started && s.status !== "running")) return s && s.status;
          video.tracking = true;
          document.body.dataset.track = "running";
          let shown = -1;
          try {
            while (video.info && video.info.id === id) {
              $("track-progress").max = Math.max(1, s.total);
              $("track-progress").value = s.done;
              const last = s.reverse ? s.start - s.done + 1 : s.start + s.done - 1;
              for (let k = 0; k < s.done; k++) video.masks.delete(s.reverse ? s.start - k : s.start + k);
              if (s.done > 0 && last !== shown && !video.playing) { shown = last; await showFrame(last); }
              if (s.status !== "running") break;
              status("Tracking " + (s.reverse ? "backward" : "forward") + ": " + s.done + " of " + s.total +
                " frames, " + s.fps.toFixed(1) + " frames/s. Esc cancels.");
              await sleep(200);
              s = await api("GET", videoPath("/track"));
            }
          } finally { video.tracking = false; }
          video.info = await api("GET", videoPath(""));
          status("Tracking " + s.status + ": " + s.done + " of " + s.total + " frames" +
            (s.error ? ": " + s.error : "."), s.status === "failed");
          document.body.dataset.track = s.status;
          document.body.dataset.tracked = String((Number(document.body.dataset.tracked) || 0) + 1);
          return s.status;
        }

        async function cancelTracking() {
          try {
            await api("DELETE", videoPath("/track"));
            status("Cancelling…");
          } catch (e) { status(e.message, true); }
        }

        async function play() {
          if (video.playing) { video.playing = false; return; }
          video.playing = true;
          $("play").textContent = "❚❚";
          const interval = 1000 / Math.min(30, video.info.fps || 10);
          while (video.playing && state.video && video.frame < video.info.frames - 1) {
            const started = performance.now();
            await showFrame(video.frame + 1);
            await sleep(Math.max(0, interval - (performance.now() - started)));
          }
          video.playing = false;
          $("play").textContent = "▶";
        }

        async function exportVideo(format) {
          try {
            const result = await api("POST", videoPath("/export"), { formats: [format] });
            status("Exported " + result.files.length + " file" + (result.files.length === 1 ? "" : "s") + ": " +
              result.files.slice(0, 2).join(", ") + (result.files.length > 2 ? ", …" : ""));
            document.body.dataset.exported = result.files.join("\n");
          } catch (e) { status(e.message, true); }
        }

        function videoKey(e) {
          if (e.target === $("frame-slider") && e.key.startsWith("Arrow")) return;  // the slider steps itself
          const keys = {
            ArrowLeft: () => showFrame(video.frame - 1), ArrowRight: () => showFrame(video.frame + 1),
            Home: () => showFrame(0), End: () => showFrame(video.info.frames - 1), " ": play,
            n: newObject, N: newObject, t: () => track("forward"), T: () => track("backward"),
            b: () => track("both"), B: () => track("both"),
            h: () => video.selected !== null && toggleHidden(video.selected),
            H: () => video.selected !== null && toggleHidden(video.selected),
            Escape: () => video.tracking && cancelTracking(),
          };
          if (keys[e.key]) { e.preventDefault(); keys[e.key](); }
        }

        $("frame-slider").addEventListener("input", (e) => showFrame(Number(e.target.value)));
        $("play").addEventListener("click", play);
        $("new-object").addEventListener("click", newObject);
        $("track-forward").addEventListener("click", () => track("forward"));
        $("track-backward").addEventListener("click", () => track("backward"));
        $("track-both").addEventListener("click", () => track("both"));
        $("track-cancel").addEventListener("click", cancelTracking);
        $("export-davis").addEventListener("click", () => exportVideo("davis"));
        $("export-video-coco").addEventListener("click", () => exportVideo("coco"));
        $("export-mp4").addEventListener("click", () => exportVideo("mp4"));
        $("upload-video").addEventListener("change", (e) => { if (e.target.files.length) uploadVideo(e.target.files[0]);
          e.target.value = ""; });
        """#
}
