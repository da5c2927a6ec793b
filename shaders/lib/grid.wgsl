// Index math of every kernel: the workgroup size and the flat index of an invocation or of a
// workgroup in a grid the runtime may lay out over x and y (past maxComputeWorkgroupsPerDimension
// workgroups, see GpuRuntime.grid).

/// Invocations a workgroup; the host sets it from the kernel descriptor's workgroupSize.
override WG: u32 = 64;

const LANES = vec4u(0u, 1u, 2u, 3u);

/// The workgroup builtins of an entry point, both uniform:
/// `fn kernel(grid: Grid, @builtin(local_invocation_index) lid: u32)`. The invocation's index in
/// its workgroup stays a parameter of its own: a struct holding it would be non-uniform as a
/// whole, and a barrier after control flow on the workgroup's index would not compile.
struct Grid {
  @builtin(workgroup_id) wid: vec3u,
  @builtin(num_workgroups) nwg: vec3u,
}

/// The flat index of the workgroup.
fn groupIndex(grid: Grid) -> u32 {
  return grid.wid.x + grid.wid.y * grid.nwg.x;
}

/// The flat index of invocation `lid` of the workgroup over the whole grid.
fn invocationIndex(grid: Grid, lid: u32) -> u32 {
  return groupIndex(grid) * WG + lid;
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
