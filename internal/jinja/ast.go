package jinja

// The syntax tree. Every node records the 1-based line it starts on.

type node interface{ line() int }

type pos struct{ Line int }

func (p pos) line() int { return p.Line }

// Expressions.
type (
	constExpr struct {
		pos
		V Value
	}
	nameExpr struct {
		pos
		Name string
	}
	listExpr struct {
		pos
		Items []node
	}
	tupleExpr struct {
		pos
		Items []node
	}
	dictExpr struct {
		pos
		Keys, Vals []node
	}
	getattrExpr struct {
		pos
		X    node
		Attr string
	}
	getitemExpr struct {
		pos
		X, Key node
	}
	sliceExpr struct {
		pos
		X                 node
		Start, Stop, Step node // nil when omitted
	}
	callExpr struct {
		pos
		Fn   node
		Args callArgs
	}
	// filterExpr applies filter Name to X (nil in a {% set %} block).
	filterExpr struct {
		pos
		X    node
		Name string
		Args callArgs
	}
	testExpr struct {
		pos
		X    node
		Name string
		Args callArgs
	}
	unaryExpr struct {
		pos
		Op string // "-", "+", "not"
		X  node
	}
	binaryExpr struct {
		pos
		Op   string // + - * / // % ** and or
		L, R node
	}
	concatExpr struct {
		pos
		Items []node
	}
	compareExpr struct {
		pos
		First node
		Ops   []string // == != < <= > >= in notin
		Rest  []node
	}
	condExpr struct {
		pos
		Test, Then, Else node // Else nil: undefined
	}
)

type callArgs struct {
	Pos     []node
	KwNames []string
	KwVals  []node
}

// Statements.
type (
	dataStmt struct {
		pos
		Text string
	}
	outputStmt struct {
		pos
		X node
	}
	ifStmt struct {
		pos
		Test node
		Body []node
		Else []node
	}
	forStmt struct {
		pos
		Target node // nameExpr or tupleExpr of nameExpr
		Iter   node
		Filter node // nil without an inline if
		Body   []node
		Else   []node
	}
	setStmt struct {
		pos
		Target node // nameExpr, tupleExpr, or nsRef
		Value  node
	}
	setBlockStmt struct {
		pos
		Target node
		Filter *filterExpr // chain applied to the body, or nil
		Body   []node
	}
	nsRef struct {
		pos
		Name, Attr string
	}
	macroStmt struct {
		pos
		Name     string
		Params   []string
		Defaults []node // for the last len(Defaults) params
		Body     []node
	}
	breakStmt    struct{ pos }
	continueStmt struct{ pos }
	// generationStmt is transformers' {% generation %}: its body renders as
	// is (the assistant-mask tracking is not reproduced).
	generationStmt struct {
		pos
		Body []node
	}
)
