//! Hostile policy components, built by the tests from the real one.
//!
//! The core module is taken out of the embedded component, re-encoded with
//! `wasm_encoder::reencode` with something bad injected (a loop, a trap,
//! endless memory growth, a start function), and encoded back into a
//! component by `wit_component::ComponentEncoder` with the component's own
//! WIT: the types are exactly the real component's, so `--policy` and
//! `Policy::from_bytes` accept it, and everything not injected behaves as
//! the real rules do.

#![allow(dead_code)]

use std::collections::HashMap;

use turnstile::policy::EMBEDDED_COMPONENT;
use wasm_encoder::reencode::{self, Reencode, RoundtripReencoder};
use wasm_encoder::{BlockType, CodeSection, FunctionSection, Instruction, MemArg, Module, SectionId, StartSection, TypeSection, ValType};
use wasmparser::{Parser, Payload, TypeRef};

/// Event kinds by their case number in the WIT's `event-kind` variant.
pub const SYNC: u32 = 0;
pub const ASSIGN: u32 = 1;
pub const UNASSIGN: u32 = 2;
pub const LOGIN: u32 = 6;

/// What an injected piece of code does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// Loops forever.
    Loop,
    /// Traps (`unreachable`): a defect.
    Trap,
    /// Grows memory a page at a time, writing to each new page, until a
    /// growth is refused; then traps, as an allocator that can't allocate does.
    GrowForever,
    /// Asks for 60,000 pages (3.75 GiB) at once and traps if refused.
    GrowHuge,
    /// Asks for 60,000 pages at once and carries on whatever the answer.
    GrowHugeAndIgnore,
}

/// Where it is done.
#[derive(Debug, Clone)]
pub enum Place {
    /// At the start of the core export whose name ends with `name`
    /// (`#[method]org.step`, of the `engine` interface, whatever the
    /// package's version), on every call, or only when the event's kind is
    /// the given case.
    Export { name: String, kind: Option<u32> },
    /// In a start function the component runs when it is instantiated.
    Start,
}

/// A component that is the real one except for `action` at `place`.
pub fn component(place: Place, action: Action) -> Vec<u8> {
    component_with(&[(place, action)])
}

/// A component that is the real one except for each action at its place.
pub fn component_with(injections: &[(Place, Action)]) -> Vec<u8> {
    let mut module = inject(core_module(), injections);
    let wit = match wit_component::decode(EMBEDDED_COMPONENT).expect("the embedded component's WIT") {
        wit_component::DecodedWasm::Component(resolve, world) => (resolve, world),
        _ => panic!("the embedded component is a component"),
    };
    wit_component::embed_component_metadata(&mut module, &wit.0, wit.1, wit_component::StringEncoding::UTF8)
        .expect("component metadata");
    wit_component::ComponentEncoder::default()
        .module(&module)
        .expect("the re-encoded module")
        .validate(true)
        .encode()
        .expect("a component")
}

/// `[method]org.NAME` of the engine interface, on events of kind `kind` (or every call).
pub fn org_method(name: &str, kind: Option<u32>) -> Place {
    Place::Export { name: format!("#[method]org.{name}"), kind }
}

/// The main core module inside the embedded component (the largest; the
/// others are wit-component's small shims, which it makes again).
pub fn core_module() -> &'static [u8] {
    let mut best: Option<std::ops::Range<usize>> = None;
    for payload in Parser::new(0).parse_all(EMBEDDED_COMPONENT) {
        if let Ok(Payload::ModuleSection { unchecked_range, .. }) = payload {
            if best.as_ref().is_none_or(|b| unchecked_range.len() > b.len()) {
                best = Some(unchecked_range);
            }
        }
    }
    &EMBEDDED_COMPONENT[best.expect("a core module inside the component")]
}

/// What the module looks like, for placing the injection.
struct Shape {
    imported_funcs: u32,
    defined_funcs: u32,
    types: u32,
    /// Defined function index (code section order) of each exported function.
    exports: HashMap<String, u32>,
    /// Parameter count of each defined function.
    params: Vec<usize>,
    has_start: bool,
}

fn shape(core: &[u8]) -> Shape {
    let mut shape =
        Shape { imported_funcs: 0, defined_funcs: 0, types: 0, exports: HashMap::new(), params: Vec::new(), has_start: false };
    let mut type_params = Vec::new();
    for payload in Parser::new(0).parse_all(core) {
        match payload.expect("the core module parses") {
            Payload::TypeSection(s) => {
                for t in s.into_iter_err_on_gc_types() {
                    type_params.push(t.expect("a function type").params().len());
                    shape.types += 1;
                }
            }
            Payload::ImportSection(s) => {
                for import in s.into_imports() {
                    if let TypeRef::Func(_) = import.expect("an import").ty {
                        shape.imported_funcs += 1;
                    }
                }
            }
            Payload::FunctionSection(s) => {
                for f in s {
                    shape.params.push(type_params[f.expect("a function") as usize]);
                    shape.defined_funcs += 1;
                }
            }
            Payload::ExportSection(s) => {
                for e in s {
                    let e = e.expect("an export");
                    if e.kind == wasmparser::ExternalKind::Func {
                        shape.exports.insert(e.name.to_string(), e.index - shape.imported_funcs);
                    }
                }
            }
            Payload::StartSection { .. } => shape.has_start = true,
            _ => {}
        }
    }
    shape
}

/// The re-encoder: preludes before some functions' bodies, and new
/// functions of type `[] -> []` appended after the module's own.
struct Injector {
    shape: Shape,
    /// Defined function index -> instructions run before its body.
    preludes: HashMap<u32, Vec<Instruction<'static>>>,
    /// New functions: their extra i32 locals and their bodies.
    extra: Vec<(u32, Vec<Instruction<'static>>)>,
    /// The new function to run as the start function.
    start: Option<u32>,
    next_body: u32,
    start_written: bool,
}

impl Injector {
    /// The function index (in the whole index space) of new function `i`.
    fn extra_index(&self, i: usize) -> u32 {
        self.shape.imported_funcs + self.shape.defined_funcs + i as u32
    }

    fn add_function(&mut self, locals: u32, body: Vec<Instruction<'static>>) -> u32 {
        self.extra.push((locals, body));
        self.extra_index(self.extra.len() - 1)
    }
}

const PAGE: i32 = 1 << 16;

fn action_body(action: Action) -> (u32, Vec<Instruction<'static>>) {
    use Instruction as I;
    let mem = MemArg { offset: 0, align: 0, memory_index: 0 };
    match action {
        Action::Loop => (0, vec![I::Loop(BlockType::Empty), I::Br(0), I::End, I::End]),
        Action::Trap => (0, vec![I::Unreachable, I::End]),
        Action::GrowForever => (
            1,
            vec![
                I::Loop(BlockType::Empty),
                // old = memory.grow(1); if old == -1 { unreachable }
                I::I32Const(1),
                I::MemoryGrow(0),
                I::LocalTee(0),
                I::I32Const(-1),
                I::I32Eq,
                I::If(BlockType::Empty),
                I::Unreachable,
                I::End,
                // memory[old * 64 KiB] = 1: the page is really used
                I::LocalGet(0),
                I::I32Const(PAGE),
                I::I32Mul,
                I::I32Const(1),
                I::I32Store8(mem),
                I::Br(0),
                I::End,
                I::End,
            ],
        ),
        Action::GrowHuge => (
            0,
            vec![
                I::I32Const(60_000),
                I::MemoryGrow(0),
                I::I32Const(-1),
                I::I32Eq,
                I::If(BlockType::Empty),
                I::Unreachable,
                I::End,
                I::End,
            ],
        ),
        Action::GrowHugeAndIgnore => (0, vec![I::I32Const(60_000), I::MemoryGrow(0), I::Drop, I::End]),
    }
}

fn inject(core: &[u8], injections: &[(Place, Action)]) -> Vec<u8> {
    let shape = shape(core);
    assert!(!shape.has_start, "the real core module has no start function");
    let mut injector =
        Injector { shape, preludes: HashMap::new(), extra: Vec::new(), start: None, next_body: 0, start_written: false };
    for (place, action) in injections {
        inject_one(&mut injector, place, *action);
    }
    let mut module = Module::new();
    injector.parse_core_module(&mut module, Parser::new(0), core).expect("re-encoding the core module");
    module.finish()
}

fn inject_one(injector: &mut Injector, place: &Place, action: Action) {
    let (locals, body) = action_body(action);
    let act = injector.add_function(locals, body);
    match place {
        Place::Start => injector.start = Some(act),
        Place::Export { name, kind } => {
            let mut found = injector.shape.exports.iter().filter(|(export, _)| {
                export.starts_with("turnstile:policy/engine@") && export.ends_with(name.as_str())
            });
            let (_, &func) = found.next().unwrap_or_else(|| panic!("no export of the engine ending `{name}`"));
            let prelude = match kind {
                None => vec![Instruction::Call(act)],
                Some(kind) => {
                    // The event's kind: the variant's discriminant. With one
                    // parameter the arguments are in memory (too many to pass
                    // flat): the handle at 0, the event at 8, its `at` then
                    // its kind at 16. Otherwise the discriminant is argument 2
                    // (after the handle and `at`).
                    let discriminant = if injector.shape.params[func as usize] == 1 {
                        vec![
                            Instruction::LocalGet(0),
                            Instruction::I32Load8U(MemArg { offset: 16, align: 0, memory_index: 0 }),
                        ]
                    } else {
                        vec![Instruction::LocalGet(2)]
                    };
                    let mut p = discriminant;
                    p.extend([
                        Instruction::I32Const(*kind as i32),
                        Instruction::I32Eq,
                        Instruction::If(BlockType::Empty),
                        Instruction::Call(act),
                        Instruction::End,
                    ]);
                    p
                }
            };
            injector.preludes.entry(func).or_default().extend(prelude);
        }
    }
}

impl Reencode for Injector {
    type Error = std::convert::Infallible;

    fn parse_type_section(
        &mut self,
        types: &mut TypeSection,
        section: wasmparser::TypeSectionReader<'_>,
    ) -> Result<(), reencode::Error<Self::Error>> {
        reencode::utils::parse_type_section(self, types, section)?;
        // Type `types`: [] -> [], for the new functions.
        types.ty().function([], []);
        Ok(())
    }

    fn parse_function_section(
        &mut self,
        functions: &mut FunctionSection,
        section: wasmparser::FunctionSectionReader<'_>,
    ) -> Result<(), reencode::Error<Self::Error>> {
        reencode::utils::parse_function_section(self, functions, section)?;
        for _ in &self.extra {
            functions.function(self.shape.types);
        }
        Ok(())
    }

    fn parse_code_section(
        &mut self,
        code: &mut CodeSection,
        section: wasmparser::CodeSectionReader<'_>,
    ) -> Result<(), reencode::Error<Self::Error>> {
        reencode::utils::parse_code_section(self, code, section)?;
        for (locals, body) in &self.extra {
            let mut f = wasm_encoder::Function::new(if *locals > 0 { vec![(*locals, ValType::I32)] } else { vec![] });
            for i in body {
                f.instruction(i);
            }
            code.function(&f);
        }
        Ok(())
    }

    fn parse_function_body(
        &mut self,
        code: &mut CodeSection,
        func: wasmparser::FunctionBody<'_>,
    ) -> Result<(), reencode::Error<Self::Error>> {
        let index = self.next_body;
        self.next_body += 1;
        let Some(prelude) = self.preludes.get(&index).cloned() else {
            return reencode::utils::parse_function_body(self, code, func);
        };
        let mut f = self.new_function_with_parsed_locals(&func)?;
        for i in &prelude {
            f.instruction(i);
        }
        let mut reader = func.get_operators_reader()?;
        while !reader.eof() {
            f.instruction(&self.parse_instruction(&mut reader)?);
        }
        code.function(&f);
        Ok(())
    }

    fn intersperse_section_hook(
        &mut self,
        module: &mut Module,
        _after: Option<SectionId>,
        before: Option<SectionId>,
    ) -> Result<(), reencode::Error<Self::Error>> {
        // The start section goes after the exports, before elements and code.
        let past_exports =
            matches!(before, None | Some(SectionId::Element | SectionId::DataCount | SectionId::Code | SectionId::Data));
        if let Some(start) = self.start.filter(|_| past_exports && !self.start_written) {
            module.section(&StartSection { function_index: start });
            self.start_written = true;
        }
        Ok(())
    }
}

/// The real core module re-encoded unchanged and made a component again:
/// the builder itself changes nothing.
pub fn unchanged() -> Vec<u8> {
    let mut module = Module::new();
    RoundtripReencoder.parse_core_module(&mut module, Parser::new(0), core_module()).expect("re-encoding");
    let mut module = module.finish();
    let (resolve, world) = match wit_component::decode(EMBEDDED_COMPONENT).expect("WIT") {
        wit_component::DecodedWasm::Component(resolve, world) => (resolve, world),
        _ => panic!("a component"),
    };
    wit_component::embed_component_metadata(&mut module, &resolve, world, wit_component::StringEncoding::UTF8).unwrap();
    wit_component::ComponentEncoder::default().module(&module).unwrap().validate(true).encode().unwrap()
}
