// Layers on the GPU: a label map is an integer texture coloured through a label table (and, for
// outlines, kept only where a neighbour differs); a float map goes through a colour map between
// the layer's value range (its minimum, NaN and values below it are not drawn). Each layer is
// one draw, blended over the ones below; textures are kept per slice key, so scrolling back and
// forth uploads nothing twice.

import type { LayerDraw } from "../layers/layer-set";
import { colormapTable, labelTable, lutSide } from "../layers/model";
import { linkProgram, type Program } from "./gl-program";
import type { LayerPainter } from "./layer-painter";
import type { Affine } from "./transform";

const LABELS = `#version 300 es
precision highp float;
precision highp int;
precision highp usampler2D;
uniform usampler2D u_tex;
uniform sampler2D u_lut;
uniform int u_side;
uniform vec2 u_size;
uniform float u_opacity;
uniform bool u_outline;
in vec2 v_uv;
out vec4 o;
uint at(ivec2 p) {
  ivec2 last = ivec2(u_size) - 1;
  if (p.x < 0 || p.y < 0 || p.x > last.x || p.y > last.y) return 0u;
  return texelFetch(u_tex, p, 0).r;
}
void main() {
  ivec2 p = ivec2(min(floor(v_uv * u_size), u_size - 1.0));
  uint v = at(p);
  if (v == 0u) discard;
  if (u_outline && at(p + ivec2(1, 0)) == v && at(p - ivec2(1, 0)) == v &&
      at(p + ivec2(0, 1)) == v && at(p - ivec2(0, 1)) == v) discard;
  int i = int(v);
  vec4 c = texelFetch(u_lut, ivec2(i % u_side, i / u_side), 0);
  if (c.a == 0.0) discard;
  o = vec4(c.rgb, u_opacity);
}`;

const HEAT = `#version 300 es
precision highp float;
uniform sampler2D u_tex;
uniform sampler2D u_lut;
uniform vec2 u_size;
uniform vec2 u_range;
uniform float u_opacity;
in vec2 v_uv;
out vec4 o;
void main() {
  ivec2 p = ivec2(min(floor(v_uv * u_size), u_size - 1.0));
  float x = texelFetch(u_tex, p, 0).r;
  if (isnan(x) || x <= u_range.x) discard;
  float t = clamp((x - u_range.x) / max(u_range.y - u_range.x, 1e-12), 0.0, 1.0);
  vec4 c = texelFetch(u_lut, ivec2(int(floor(t * 255.0 + 0.5)), 0), 0);
  o = vec4(c.rgb, u_opacity);
}`;

const UNIFORMS = ["u_m", "u_tex", "u_lut", "u_side", "u_size", "u_opacity", "u_outline", "u_range"];
/** Slice textures kept on the GPU (a stack's neighbourhood for a few layers). */
const TEXTURES = 48;

export class LayersWebGlPainter implements LayerPainter {
  readonly kind = "webgl2" as const;
  private readonly programs: Record<"labels" | "heat", Program>;
  private readonly textures = new Map<string, WebGLTexture>();
  private readonly luts = new Map<string, WebGLTexture>();

  private constructor(
    readonly canvas: HTMLCanvasElement,
    private readonly gl: WebGL2RenderingContext,
  ) {
    const buf = gl.createBuffer();
    gl.bindBuffer(gl.ARRAY_BUFFER, buf);
    gl.bufferData(gl.ARRAY_BUFFER, new Float32Array([0, 0, 1, 0, 0, 1, 1, 1]), gl.STATIC_DRAW);
    gl.pixelStorei(gl.UNPACK_ALIGNMENT, 1);
    this.programs = { labels: this.link(LABELS), heat: this.link(HEAT) };
  }

  static create(): LayersWebGlPainter | null {
    const canvas = document.createElement("canvas");
    // Premultiplied output (the blend below writes it), so the page composites it correctly.
    const gl = canvas.getContext("webgl2", { antialias: false, premultipliedAlpha: true });
    if (!gl) return null;
    try {
      return new LayersWebGlPainter(canvas, gl);
    } catch {
      return null;
    }
  }

  private link(frag: string): Program {
    return linkProgram(this.gl, frag, UNIFORMS, "Layer shader");
  }

  private texture(d: LayerDraw): WebGLTexture {
    const gl = this.gl;
    const known = this.textures.get(d.key);
    if (known) {
      this.textures.delete(d.key);
      this.textures.set(d.key, known); // most recently used last
      return known;
    }
    const tex = gl.createTexture()!;
    gl.bindTexture(gl.TEXTURE_2D, tex);
    nearest(gl);
    const f = d.frame;
    const [internal, format, type] =
      f.dtype === "uint8"
        ? [gl.R8UI, gl.RED_INTEGER, gl.UNSIGNED_BYTE]
        : f.dtype === "uint16"
          ? [gl.R16UI, gl.RED_INTEGER, gl.UNSIGNED_SHORT]
          : [gl.R32F, gl.RED, gl.FLOAT];
    gl.texImage2D(gl.TEXTURE_2D, 0, internal, f.columns, f.rows, 0, format, type, f.data);
    this.textures.set(d.key, tex);
    for (const [key, old] of this.textures) {
      if (this.textures.size <= TEXTURES) break;
      gl.deleteTexture(old);
      this.textures.delete(key);
    }
    return tex;
  }

  private lut(d: LayerDraw): WebGLTexture {
    const l = d.layer;
    const heat = l.kind === "heatmap";
    const key = heat ? `map:${l.colormap}` : `labels:${l.id}:${JSON.stringify(l.labels)}`;
    const known = this.luts.get(key);
    if (known) return known;
    const gl = this.gl;
    const tex = gl.createTexture()!;
    gl.bindTexture(gl.TEXTURE_2D, tex);
    nearest(gl);
    const side = heat ? 0 : lutSide(l);
    const data = heat ? colormapTable(l.colormap) : labelTable(l);
    const [w, h] = heat ? [256, 1] : [side, side];
    gl.texImage2D(gl.TEXTURE_2D, 0, gl.RGBA8, w, h, 0, gl.RGBA, gl.UNSIGNED_BYTE, data);
    this.luts.set(key, tex);
    return tex;
  }

  draw(draws: readonly LayerDraw[], t: Affine): void {
    const gl = this.gl;
    gl.viewport(0, 0, this.canvas.width, this.canvas.height);
    gl.clearColor(0, 0, 0, 0);
    gl.clear(gl.COLOR_BUFFER_BIT);
    if (!draws.length) return;
    gl.enable(gl.BLEND);
    gl.blendFuncSeparate(gl.SRC_ALPHA, gl.ONE_MINUS_SRC_ALPHA, gl.ONE, gl.ONE_MINUS_SRC_ALPHA);
    const W = this.canvas.width;
    const H = this.canvas.height;
    for (const d of draws) {
      const heat = d.layer.kind === "heatmap";
      const { prog, loc } = this.programs[heat ? "heat" : "labels"];
      gl.useProgram(prog);
      const sx = d.frame.columns;
      const sy = d.frame.rows;
      const m = new Float32Array([
        ((2 * t.a) / W) * sx,
        ((-2 * t.b) / H) * sx,
        0,
        ((2 * t.c) / W) * sy,
        ((-2 * t.d) / H) * sy,
        0,
        (2 * t.e) / W - 1,
        1 - (2 * t.f) / H,
        1,
      ]);
      gl.uniformMatrix3fv(loc.u_m!, false, m);
      gl.activeTexture(gl.TEXTURE0);
      gl.bindTexture(gl.TEXTURE_2D, this.texture(d));
      gl.uniform1i(loc.u_tex!, 0);
      gl.activeTexture(gl.TEXTURE1);
      gl.bindTexture(gl.TEXTURE_2D, this.lut(d));
      gl.uniform1i(loc.u_lut!, 1);
      gl.uniform2f(loc.u_size!, sx, sy);
      gl.uniform1f(loc.u_opacity!, d.style.opacity);
      if (heat) {
        const [lo, hi] = d.layer.value_range ?? [0, 1];
        gl.uniform2f(loc.u_range!, lo, hi);
      } else {
        gl.uniform1i(loc.u_side!, lutSide(d.layer));
        gl.uniform1i(loc.u_outline!, d.style.outline ? 1 : 0);
      }
      gl.enableVertexAttribArray(0);
      gl.vertexAttribPointer(0, 2, gl.FLOAT, false, 0, 0);
      gl.drawArrays(gl.TRIANGLE_STRIP, 0, 4);
    }
  }

  resize(width: number, height: number): void {
    this.canvas.width = width;
    this.canvas.height = height;
  }

  dispose(): void {
    this.gl.getExtension("WEBGL_lose_context")?.loseContext();
  }
}

function nearest(gl: WebGL2RenderingContext): void {
  gl.texParameteri(gl.TEXTURE_2D, gl.TEXTURE_MIN_FILTER, gl.NEAREST);
  gl.texParameteri(gl.TEXTURE_2D, gl.TEXTURE_MAG_FILTER, gl.NEAREST);
  gl.texParameteri(gl.TEXTURE_2D, gl.TEXTURE_WRAP_S, gl.CLAMP_TO_EDGE);
  gl.texParameteri(gl.TEXTURE_2D, gl.TEXTURE_WRAP_T, gl.CLAMP_TO_EDGE);
}
