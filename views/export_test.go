package views

// ComposeFormPlainForTest renders a permalink page's plain compose form.
var ComposeFormPlainForTest = composePlain
