// Index math of every kernel: the workgroup size and the flat index of an invocation or of a
// workgroup in a grid the runtime may lay out over x and y (past maxComputeWorkgroupsPerDimension
// workgroups, see GpuRuntime.grid).

/// Invocations a workgroup; the host sets it from the kernel descriptor's workgroupSize.
override WG: u32 = 64;

const LANES = vec4u(0u, 1u, 2u, 3u);

fn flatGroup(wid: vec3u, nwg: vec3u) -> u32 {
  return wid.x + wid.y * nwg.x;
}

fn flatIndex(wid: vec3u, nwg: vec3u, lid: u32) -> u32 {
  return flatGroup(wid, nwg) * WG + lid;
}

/// (g / per, g % per): an invocation's item (arm, segment, matrix) and its element in the item.
fn itemOf(g: u32, per: u32) -> vec2u {
  let item = g / per;
  return vec2u(item, g - item * per);
}

/// first … first + 3, each at most last: loads past an edge read a valid neighbour, so inner loops
/// need no branch (the results there are not stored).
fn clampedLanes(first: u32, last: u32) -> vec4u {
  return min(vec4u(first) + LANES, vec4u(last));
}
