/**
 * Just enough XML parsing to check that a chart is a well-formed document:
 * elements nest and close, attributes are quoted, text is collected. Throws
 * on anything malformed. (No XML parser is a dependency of the project.)
 */
export interface XmlElement {
  readonly name: string;
  readonly attributes: Record<string, string>;
  readonly children: XmlElement[];
  text: string;
}

const entity: Readonly<Record<string, string>> = { lt: '<', gt: '>', amp: '&', apos: "'", quot: '"' };

function decode(text: string): string {
  return text.replace(/&(\w+);/g, (m, name: string) => {
    const v = entity[name];
    if (v === undefined) throw new Error(`unknown entity ${m}`);
    return v;
  });
}

function attributesOf(source: string): Record<string, string> {
  const attributes: Record<string, string> = {};
  const rest = source.replace(/\s*([\w:-]+)="([^"<]*)"/g, (_, name: string, value: string) => {
    if (name in attributes) throw new Error(`attribute ${name} twice`);
    attributes[name] = decode(value);
    return '';
  });
  if (rest.trim() !== '') throw new Error(`malformed attributes: ${rest}`);
  return attributes;
}

export function parseXml(source: string): XmlElement {
  const stack: XmlElement[] = [];
  let root: XmlElement | null = null;
  const tag = /<(\/?)([\w:-]+)((?:\s+[\w:-]+="[^"]*")*)\s*(\/?)>|([^<]+)/gy;
  let m: RegExpExecArray | null;
  let at = 0;
  while ((m = tag.exec(source)) !== null) {
    at = tag.lastIndex;
    const [, closing, name, attrs, selfClosing, text] = m;
    if (text !== undefined) {
      if (stack.length === 0) {
        if (text.trim() !== '') throw new Error('text outside the root element');
      } else {
        stack.at(-1)!.text += decode(text);
      }
      continue;
    }
    if (closing === '/') {
      const open = stack.pop();
      if (open?.name !== name) throw new Error(`</${name}> closes <${open?.name ?? 'nothing'}>`);
      continue;
    }
    const element: XmlElement = { name: name!, attributes: attributesOf(attrs ?? ''), children: [], text: '' };
    if (stack.length > 0) stack.at(-1)!.children.push(element);
    else if (root === null) root = element;
    else throw new Error('a second root element');
    if (selfClosing !== '/') stack.push(element);
  }
  if (at !== source.length) throw new Error(`unparsable at offset ${at}: ${source.slice(at, at + 40)}`);
  if (stack.length > 0) throw new Error(`<${stack.at(-1)!.name}> is not closed`);
  if (root === null) throw new Error('no root element');
  return root;
}
