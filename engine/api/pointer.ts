/** JSON Pointers (RFC 6901) for plug-ins: the one module of plans/ (plans/pointer.ts), which every layer uses. */
export {
  compile,
  escapeToken,
  find,
  get,
  join,
  lastToken,
  parent,
  PointerSyntaxError,
  split,
  unescapeToken,
  uriFragment,
  type PointerTarget,
} from '../../plans/pointer.js'
